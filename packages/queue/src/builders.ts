import {
  type QueueMessage,
  type Store,
  ValidationError,
  validateInt,
  validateName,
} from '@pgqrs/core'
import { Consumer } from './consumer.js'
import { processIdentity, registerNamed } from './identity.js'
import { type EnqueueOptions, Producer } from './producer.js'
import { type Handler, SETTLED, Worker } from './worker.js'
import type { WorkerOptions } from './worker-config.js'

/** Builder of one enqueue call (the Rust crate's style). */
export class EnqueueBuilder<T = unknown> {
  #payloads: T[] | null = null
  #queue: string | null = null
  #producer: Producer<any> | null = null
  #options: { -readonly [K in keyof EnqueueOptions]: EnqueueOptions[K] } = {}

  /** One payload. */
  message<U>(payload: U): EnqueueBuilder<U> {
    ;(this as unknown as EnqueueBuilder<U>).#payloads = [payload]
    return this as unknown as EnqueueBuilder<U>
  }
  /** Several payloads, inserted in one statement. */
  messages<U>(payloads: readonly U[]): EnqueueBuilder<U> {
    if (!Array.isArray(payloads))
      throw new ValidationError('messages', payloads, 'an array of payloads')
    ;(this as unknown as EnqueueBuilder<U>).#payloads = [...payloads]
    return this as unknown as EnqueueBuilder<U>
  }
  /** Target queue. */
  to(queue: string): this {
    this.#queue = validateName('queue', queue)
    return this
  }
  /** Enqueue through this producer (its queue and identity). */
  worker(producer: Producer<any>): this {
    this.#producer = producer
    return this
  }
  /** Visible after `ms` milliseconds. */
  delay(ms: number): this {
    this.#options.delayMs = validateInt('delayMs', ms, 0)
    return this
  }
  /** Visible from `date`. */
  runAt(date: Date): this {
    this.#options.runAt = date
    return this
  }
  /** Higher first. */
  priority(p: number): this {
    this.#options.priority = p
    return this
  }
  /** Deduplicate while a message with this key is active. */
  dedupeKey(key: string): this {
    this.#options.dedupeKey = key
    return this
  }
  /** Deliveries before dead. */
  maxAttempts(n: number): this {
    this.#options.maxAttempts = n
    return this
  }
  /** Handler timeout of these messages in ms (wins over the worker's `timeoutMs`). */
  timeout(ms: number): this {
    this.#options.timeoutMs = ms
    return this
  }
  /** Enqueue inside your own open transaction. */
  tx(tx: unknown): this {
    this.#options.tx = tx
    return this
  }
  /** Inserts the messages; resolves to their ids, in order. */
  async execute(store: Store): Promise<number[]> {
    if (!this.#payloads || this.#payloads.length === 0) {
      throw new ValidationError(
        'messages',
        this.#payloads,
        'at least one message',
        'No messages to enqueue: call .message() or .messages() before .execute()',
      )
    }
    const queue = this.#producer?.queue ?? this.#queue
    if (!queue)
      throw new ValidationError(
        'queue',
        null,
        'a queue name',
        'No queue to enqueue to: call .to(queue) (or .worker(producer)) before .execute()',
      )
    const producer =
      this.#producer ?? new Producer<T>(store, queue, (await processIdentity(store)).id)
    const msgs = await producer.enqueueMany(this.#payloads, this.#options)
    return msgs.map((m) => m.id)
  }
}

/** Builder of one dequeue, one handled batch, or a polling loop (the Rust crate's style). */
export class DequeueBuilder<T = unknown> {
  #queue: string | null = null
  #consumer: Consumer<any> | null = null
  #batch = 1
  #leaseMs: number | undefined
  #handler: ((m: QueueMessage<T>) => unknown) | null = null
  #batchHandler: ((ms: QueueMessage<T>[]) => unknown) | null = null
  #signal: AbortSignal | undefined
  #workerOptions: WorkerOptions = {}

  /** Source queue. */
  from(queue: string): this {
    this.#queue = validateName('queue', queue)
    return this
  }
  /** Dequeue through this consumer (its queue and identity). */
  worker(consumer: Consumer<any>): this {
    this.#consumer = consumer
    return this
  }
  /** Messages per dequeue (default 1). */
  batch(n: number): this {
    this.#batch = validateInt('batch', n, 1, 1000)
    return this
  }
  /** Lease length in ms. */
  leaseMs(ms: number): this {
    this.#leaseMs = validateInt('leaseMs', ms, 1)
    return this
  }
  /** Per-message handler (batch size must be 1 for `execute`). */
  handle<U = T>(fn: (m: QueueMessage<U>) => unknown): DequeueBuilder<U> {
    ;(this as unknown as DequeueBuilder<U>).#handler = fn
    return this as unknown as DequeueBuilder<U>
  }
  /** Whole-batch handler: success archives the batch, a throw fails every message of it. */
  handleBatch<U = T>(fn: (ms: QueueMessage<U>[]) => unknown): DequeueBuilder<U> {
    ;(this as unknown as DequeueBuilder<U>).#batchHandler = fn
    return this as unknown as DequeueBuilder<U>
  }
  /** `poll()` runs until this signal aborts. */
  signal(signal: AbortSignal): this {
    this.#signal = signal
    return this
  }
  /** Worker options for `poll()` (concurrency, pollIntervalMs, …). */
  options(options: WorkerOptions): this {
    this.#workerOptions = options
    return this
  }

  async #resolveConsumer(store: Store): Promise<Consumer<T>> {
    if (this.#consumer) return this.#consumer as Consumer<T>
    if (!this.#queue)
      throw new ValidationError(
        'queue',
        null,
        'a queue name',
        'No queue to dequeue from: call .from(queue) (or .worker(consumer)) first',
      )
    return new Consumer<T>(store, this.#queue, (await processIdentity(store)).id)
  }

  /** Leases up to `batch` messages and returns them (no handler). */
  async fetchAll(store: Store): Promise<QueueMessage<T>[]> {
    const c = await this.#resolveConsumer(store)
    return c.dequeue({ batchSize: this.#batch, leaseMs: this.#leaseMs })
  }

  /** Leases one message, or null. */
  async fetchOne(store: Store): Promise<QueueMessage<T> | null> {
    const c = await this.#resolveConsumer(store)
    const [m] = await c.dequeue({ batchSize: 1, leaseMs: this.#leaseMs })
    return m ?? null
  }

  /**
   * Processes one batch: success archives, a throw fails the message (retry with backoff or dead
   * letter) and is re-thrown. Resolves to the messages handled.
   */
  async execute(store: Store): Promise<QueueMessage<T>[]> {
    if (!this.#handler && !this.#batchHandler)
      throw new ValidationError(
        'handler',
        null,
        'a handler',
        'No handler: call .handle(fn) or .handleBatch(fn) before .execute()',
      )
    if (this.#handler && this.#batch !== 1) {
      throw new ValidationError(
        'batch',
        this.#batch,
        '1 for .handle()',
        `single-message handlers require batch size = 1, got ${this.#batch}: use .handleBatch()`,
      )
    }
    const c = await this.#resolveConsumer(store)
    const msgs = await c.dequeue({ batchSize: this.#batch, leaseMs: this.#leaseMs })
    if (msgs.length === 0) return msgs
    let result: unknown
    try {
      result = this.#handler ? await this.#handler(msgs[0]!) : await this.#batchHandler!(msgs)
    } catch (e) {
      for (const m of msgs) await c.fail(m, e)
      throw e
    }
    if (result !== SETTLED) await c.archiveMany(msgs)
    return msgs
  }

  /** Runs a worker loop until the `signal` aborts; resolves when it has stopped. */
  async poll(store: Store): Promise<void> {
    let handler: Handler<T>
    if (this.#handler) handler = (m) => this.#handler!(m)
    else if (this.#batchHandler) handler = (m) => this.#batchHandler!([m])
    else
      throw new ValidationError(
        'handler',
        null,
        'a handler',
        'No handler: call .handle(fn) before .poll()',
      )
    const c = await this.#resolveConsumer(store)
    const w = new Worker<T>(store, c.queue, handler, {
      batchSize: this.#batch,
      leaseMs: this.#leaseMs,
      ...this.#workerOptions,
      signal: this.#signal ?? this.#workerOptions.signal,
    })
    // Listen first: with a signal that is aborted already, start() stops at once and emits
    // 'stopped' before it returns.
    const stopped = new Promise<void>((resolve) => w.once('stopped', () => resolve()))
    await w.start()
    await stopped
  }
}

/** Starts an enqueue builder: `enqueue().message(p).to(q).execute(store)`. */
export function enqueue(): EnqueueBuilder {
  return new EnqueueBuilder()
}

/** Starts a dequeue builder: `dequeue().from(q).handle(fn).execute(store)`. */
export function dequeue(): DequeueBuilder {
  return new DequeueBuilder()
}

/** A named producer: `producer('api-1', 'tasks').create(store)` registers worker `api-1`. */
export function producer<T = unknown>(
  name: string,
  queue: string,
): { create(store: Store): Promise<Producer<T>> } {
  validateName('worker', name)
  validateName('queue', queue)
  return {
    async create(store) {
      await store.queue(queue)
      const w = await registerNamed(store, name, queue)
      return new Producer<T>(store, queue, w.id)
    },
  }
}

/**
 * A named consumer: `consumer('worker-1', 'tasks')`, or the seed's `consumer('worker-1', 8080, 'tasks')`
 * (host name, port, queue), which names the worker `worker-1:8080`.
 */
export function consumer<T = unknown>(
  name: string,
  portOrQueue: number | string,
  maybeQueue?: string,
): { create(store: Store): Promise<Consumer<T>> } {
  const queue = typeof portOrQueue === 'number' ? maybeQueue : portOrQueue
  const fullName =
    typeof portOrQueue === 'number'
      ? `${name}:${validateInt('port', portOrQueue, 0, 65_535)}`
      : name
  validateName('worker', fullName)
  validateName('queue', queue)
  return {
    async create(store) {
      await store.queue(queue!)
      const w = await registerNamed(store, fullName, queue!)
      return new Consumer<T>(store, queue!, w.id)
    },
  }
}
