import {
  type EnqueueItem,
  type QueueMessage,
  type Store,
  type StoreRepositories,
  ValidationError,
} from '@pgqrs/core'
import { traceEnqueue } from './telemetry.js'
import { notifyLocalEnqueue } from './wakeups.js'

/** Options of {@link Producer.enqueue} and {@link Producer.enqueueMany}. */
export interface EnqueueOptions {
  /** Visible after this many ms (database clock). Default 0. */
  readonly delayMs?: number
  /** Visible from this instant (wins over `delayMs`). */
  readonly runAt?: Date
  /** Higher is dequeued first. Default 0. */
  readonly priority?: number
  /** While a message with this key is active in the queue, enqueue returns it instead of a new one. */
  readonly dedupeKey?: string
  /** Deliveries before the message is dead. Default the store's `maxAttempts` (5). */
  readonly maxAttempts?: number
  /**
   * Metadata stored beside each payload (read back with `store.messages.headers`). With an OpenTelemetry SDK
   * installed, the trace context of the enqueue span is added (`traceparent`, `tracestate`).
   */
  readonly headers?: Readonly<Record<string, string>>
  /**
   * Handler timeout of this message in ms; wins over the worker's `timeoutMs`. Default none
   * (the worker's applies).
   */
  readonly timeoutMs?: number
  /**
   * The concurrency key of the message (a customer id, say): with the queue's
   * `concurrencyPerKey`, at most that many messages of one key are handled at once, across every
   * worker (see `admin.setQueueLimits`). Default none.
   */
  readonly concurrencyKey?: string
  /**
   * Your own open transaction: the message commits or rolls back with your data. A Kysely
   * `Transaction`, a pgqrs `StoreTransaction`, or (Postgres) a `pg` client inside `BEGIN`.
   */
  readonly tx?: unknown
}

/**
 * Enqueues messages to one queue.
 *
 * @example
 * ```ts
 * const producer = await store.producer<{ to: string }>('emails')
 * const msg = await producer.enqueue({ to: 'a@b.c' }, { delayMs: 5_000 })
 * ```
 */
export class Producer<T = unknown> {
  readonly store: Store
  readonly queue: string
  /** The worker row recorded as producer of each message. */
  readonly workerId: number | null

  constructor(store: Store, queue: string, workerId: number | null = null) {
    this.store = store
    this.queue = queue
    this.workerId = workerId
  }

  /** Enqueues one message; with a `dedupeKey` already active, returns that message. */
  async enqueue(payload: T, options: EnqueueOptions = {}): Promise<QueueMessage<T>> {
    const [msg] = await this.#insert([payload], options, false)
    return msg!
  }

  /**
   * Enqueues a batch in one statement, validated as a whole: one invalid payload rejects the batch
   * (the error names its index) and nothing is inserted.
   */
  async enqueueMany(
    payloads: readonly T[],
    options: EnqueueOptions = {},
  ): Promise<QueueMessage<T>[]> {
    if (!Array.isArray(payloads))
      throw new ValidationError('payloads', payloads, 'an array of payloads')
    if (options.dedupeKey !== undefined && payloads.length > 1) {
      throw new ValidationError(
        'dedupeKey',
        options.dedupeKey,
        'one key per message: enqueue deduplicated messages one at a time',
      )
    }
    return this.#insert(payloads, options, true)
  }

  async #insert(
    payloads: readonly T[],
    options: EnqueueOptions,
    batch: boolean,
  ): Promise<QueueMessage<T>[]> {
    if (typeof options !== 'object' || options === null)
      throw new ValidationError('options', options, 'an object')
    const repos: StoreRepositories =
      options.tx === undefined ? this.store : this.store.withTransaction(options.tx)
    const list = batch ? payloads : payloads.slice(0, 1)
    const out = (await traceEnqueue(this.queue, list.length, options.headers, (headers) =>
      repos.messages.enqueue(
        this.queue,
        list.map(
          (payload): EnqueueItem => ({
            payload,
            delayMs: options.delayMs,
            runAt: options.runAt,
            priority: options.priority,
            dedupeKey: options.dedupeKey,
            maxAttempts: options.maxAttempts,
            timeoutMs: options.timeoutMs,
            concurrencyKey: options.concurrencyKey,
            headers,
          }),
        ),
        { producerId: this.workerId },
      ),
    )) as QueueMessage<T>[]
    // In a caller's transaction the message is not visible before their commit; a nudge is harmless.
    if (out.length > 0) notifyLocalEnqueue(this.store, this.queue)
    return out
  }
}
