import { EventEmitter } from 'node:events'
import {
  assertSchemaCurrent,
  ConfigError,
  InvalidStateTransitionError,
  LeaseLostError,
  type QueueMessage,
  type SettleOutcome,
  type Store,
  type Subscription,
  TimeoutError,
  toError,
  validateName,
  validatePayload,
  type WorkerRecord,
  withScope,
  WorkerStoppedError,
} from '@pgqrs/core'
import { Consumer } from './consumer.js'
import { processIdentity, registerAnonymous, registerNamed } from './identity.js'
import { LocalQueue } from './local-queue.js'
import { settleAndDequeue } from './settle.js'
import { attachWorkerTelemetry, instrumentHandler } from './telemetry.js'
import { acquireScheduler, type Scheduler } from './scheduler.js'
import { onLocalEnqueue } from './wakeups.js'
import { resolveWorkerConfig, type WorkerConfig, type WorkerOptions } from './worker-config.js'

/** What a handler gets besides the message. */
export interface HandlerContext {
  /** Aborted on shutdown (after the grace period) or when the lease was lost. */
  readonly signal: AbortSignal
  /** Extends the lease to run out `ms` from now (default the worker's `leaseMs`). */
  extendLease(ms?: number): Promise<boolean>
  /** Records a worker heartbeat now. */
  heartbeat(): Promise<void>
  /** The worker running the handler. */
  readonly worker: Worker<any>
}

/**
 * Return this from a handler that settled its message itself (released it with a delay, archived
 * it in its own transaction, …): the worker then leaves the message alone.
 */
export const SETTLED: unique symbol = Symbol.for('pgqrs.settled')

/** A message handler: resolve to archive the message, throw to fail it (retry or dead letter). */
export type Handler<T> = (msg: QueueMessage<T>, ctx: HandlerContext) => unknown

/** Typed worker events. */
export interface WorkerEvents<T> {
  'message:start': [msg: QueueMessage<T>]
  'message:done': [msg: QueueMessage<T>]
  'message:failed': [msg: QueueMessage<T>, error: Error]
  'message:dead': [msg: QueueMessage<T>, error: Error]
  'lease:lost': [msg: QueueMessage<T>]
  /** The worker saw its registry row suspended (admin.suspendWorker): it leases nothing until resumed. */
  suspended: []
  /** A suspended worker saw its row ready again (admin.resumeWorker) and leases again. */
  resumed: []
  error: [error: Error]
  stopped: []
}

/** A finished message waiting to be settled, with what to keep with it. */
interface PendingSettle<T> {
  msg: QueueMessage<T>
  outcome: SettleOutcome
  resolve: (ok: boolean) => void
  reject: (e: unknown) => void
}

/** A worker's lifecycle state. */
export type WorkerState = 'idle' | 'running' | 'stopping' | 'stopped'

/**
 * One message being handled. Its AbortController is made only when the handler reads
 * `ctx.signal` (most never do), and its lease is renewed by the worker's one renewal timer: a
 * message costs no timer and no EventTarget of its own.
 */
class InFlight<T> implements HandlerContext {
  readonly msg: QueueMessage<T>
  readonly worker: Worker<any>
  readonly #extend: (ms?: number) => Promise<boolean>
  readonly #beat: () => Promise<void>
  done: Promise<void> = Promise.resolve()
  abandoned = false
  /** The lease was taken over: the new holder settles the message. */
  lost = false
  /** The handler returned (or threw), or its timeout fired: no more renewals. */
  finished = false
  /** The handler ran past its timeout: abandoned, its delivery recorded as failed. */
  timedOut = false
  /** When the lease is next renewed (ms since the epoch). */
  renewAt: number
  #controller: AbortController | null = null
  #reason: Error | null = null

  constructor(
    msg: QueueMessage<T>,
    worker: Worker<any>,
    renewAt: number,
    extend: (ms?: number) => Promise<boolean>,
    beat: () => Promise<void>,
  ) {
    this.msg = msg
    this.worker = worker
    this.renewAt = renewAt
    this.#extend = extend
    this.#beat = beat
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#reason) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  abort(reason: Error): void {
    this.#reason ??= reason
    this.#controller?.abort(reason)
  }

  extendLease(ms?: number): Promise<boolean> {
    return this.#extend(ms)
  }

  heartbeat(): Promise<void> {
    return this.#beat()
  }
}

/**
 * A handler loop over one queue with concurrency, automatic lease renewal, heartbeats, wake-ups on
 * enqueue and graceful shutdown. Invariant: every dequeued message is archived, failed or
 * released exactly once by this worker (or, when its lease was lost, left to its new holder).
 *
 * @example
 * ```ts
 * const worker = pgqrs.worker(store, 'tasks', async (msg, ctx) => send(msg.payload), { concurrency: 8 })
 * await worker.start()
 * process.on('SIGTERM', () => worker.stop({ graceMs: 10_000 }))
 * ```
 */
export class Worker<T = unknown> extends EventEmitter<WorkerEvents<T>> {
  readonly store: Store
  readonly queue: string
  readonly config: WorkerConfig
  /** The queues this worker claims from (one, or several with a handler map). */
  readonly queues: readonly string[]
  #handlers: ReadonlyMap<string, Handler<T>>
  #nextQueue = 0
  #state: WorkerState = 'idle'
  #record: WorkerRecord | null = null
  #consumer: Consumer<T> | null = null
  readonly #inFlight = new Map<number, InFlight<T>>()
  /** Waits that a nudge ends (a lane polling an empty queue, or waiting for a free slot). */
  readonly #wakers = new Set<() => void>()
  /** Waits that stop() ends (all of them). */
  readonly #stopWakers = new Set<() => void>()
  #wakeRequested = false
  /** Prefetched messages waiting for a free handler slot (`prefetch` option). */
  readonly #local = new LocalQueue<T>()
  /** Messages asked for by claims in flight (each claim reserves its batch before it is sent). */
  #requested = 0
  /** The last claim came back full: more is likely waiting, so every claim lane runs. */
  #busy = false
  /** Claim lanes other than the first, parked while the queue looks drained. */
  readonly #parked = new Set<() => void>()
  #loop: Promise<void> | null = null
  #heartbeatTimer: NodeJS.Timeout | null = null
  #renewTimer: NodeJS.Timeout | null = null
  #subscription: Subscription | null = null
  #unlisten: (() => void) | null = null
  /** The worker's queues that have a rate limit (see {@link #emptyWaitMs}). */
  #rated: readonly string[] = []
  /** This worker's share of the process's scheduler (null: it runs none). */
  #scheduler: ReturnType<typeof acquireScheduler> | null = null
  #paused = false
  #ticks = 0
  #stopping: Promise<void> | null = null
  /** Finished messages waiting to be settled: by the loop's next claim, or on the next turn. */
  #toSettle: PendingSettle<T>[] = []
  #settleScheduled = false
  /** Handlers running now (in-flight entries whose handler has not returned yet). */
  #handling = 0
  #starting: Promise<void> | null = null
  readonly #log

  constructor(
    store: Store,
    queue: string | HandlerMap<T>,
    handler?: Handler<T> | WorkerOptions,
    options: WorkerOptions = {},
  ) {
    super()
    this.store = store
    if (typeof queue === 'string') {
      validateName('queue', queue)
      if (typeof handler !== 'function')
        throw new ConfigError('handler', 'worker handler must be a function (msg, ctx) => …')
      this.#handlers = new Map([[queue, handler]])
    } else {
      this.#handlers = handlerMap(queue)
      options = (handler as WorkerOptions | undefined) ?? {}
    }
    this.queues = Object.freeze([...this.#handlers.keys()])
    this.queue = this.queues[0]!
    this.config = resolveWorkerConfig(options, store.config)
    if (this.config.telemetry) {
      this.#handlers = new Map(
        [...this.#handlers].map(([q, h]) => [q, instrumentHandler(store, q, h) as Handler<T>]),
      )
      attachWorkerTelemetry(this)
    }
    this.#log = withScope(store.config.logger, {
      queue: this.queues.join(','),
      worker: this.config.name,
    })
    this.config.signal?.addEventListener('abort', () => void this.stop(), { once: true })
  }

  /** Current lifecycle state. */
  get state(): WorkerState {
    return this.#state
  }

  /** The worker's registry row (after `start()`). */
  get record(): WorkerRecord | null {
    return this.#record
  }

  /**
   * The process's scheduler of this store that this worker shares (listen to its `tick` events),
   * while the worker runs; null before `start()`, after `stop()` or with `scheduler: false`.
   */
  get scheduler(): Scheduler | null {
    return this.#state === 'running' ? (this.#scheduler?.scheduler ?? null) : null
  }

  /** Messages being handled now. */
  get inFlight(): number {
    return this.#inFlight.size
  }

  /**
   * Handler slots free now (`concurrency` minus running handlers). A handler abandoned at its
   * timeout no longer holds a slot, even while it keeps running.
   */
  get freeSlots(): number {
    return this.config.concurrency - this.#handling
  }

  /**
   * Checks the schema version (`SchemaVersionError` when the database is older or newer than this
   * code), registers the worker, subscribes to wake-ups and starts the loop; resolves once it is
   * polling.
   */
  async start(): Promise<this> {
    if (this.#state !== 'idle')
      throw new InvalidStateTransitionError('worker loop', this.#state, 'running', ['idle'])
    this.#state = 'running'
    if (this.config.signal?.aborted) {
      // Aborted before it started: never register, never lease.
      this.#state = 'stopped'
      this.emit('stopped')
      return this
    }
    this.#starting = this.#begin()
    await this.#starting
    return this
  }

  async #begin(): Promise<void> {
    // LISTEN and its self-test (a connection of its own) are set up while the schema is checked
    // and the worker registers: start → first claim pays the longer of the two, not their sum.
    const listening = this.#listen()
    try {
      // Never run against tables this code does not know: an older or newer schema is refused
      // with SchemaVersionError (SchemaNotInstalledError before install), saying what to run.
      await assertSchemaCurrent(this.store)
      for (const q of this.queues) await this.store.queue(q)
      await this.#readRated()
      this.#record = this.config.name
        ? await registerNamed(this.store, this.config.name, this.queue)
        : await this.#anonymous()
      this.#record = await this.store.workers.transition(this.#record.id, 'polling')
      this.#consumer = new Consumer<T>(this.store, this.queue, this.#record.id, this.config.backoff)
      const unlisten = this.queues.map((q) => onLocalEnqueue(this.store, q, () => this.nudge()))
      this.#unlisten = () => {
        for (const u of unlisten) u()
      }
    } catch (e) {
      this.#state = 'stopped'
      this.#unlisten?.()
      // The subscription set up meanwhile must not outlive a start that failed.
      await listening
      await this.#subscription?.close().catch(() => {})
      this.#subscription = null
      throw e
    }
    // Handlers must not run before start() resolves (callers and the crash tests rely on it), and
    // no NOTIFY sent after start() may be missed: the loop starts once LISTEN is up.
    await listening
    if (this.#state !== 'running') return // stop() was called while starting: it finishes the job
    this.#heartbeatTimer = setInterval(() => void this.#beat(), this.config.heartbeatIntervalMs)
    this.#heartbeatTimer.unref?.()
    this.#renewTimer = setInterval(() => this.#renewDue(), this.#renewCheckMs)
    this.#renewTimer.unref?.()
    if (this.config.scheduler && this.store.schedules)
      this.#scheduler = acquireScheduler(this.store, this.config.scheduler)
    this.#loop = this.#run()
  }

  async #anonymous(): Promise<WorkerRecord> {
    return registerAnonymous(this.store, this.queue).catch(() => processIdentity(this.store))
  }

  async #listen(): Promise<void> {
    if (!this.store.capabilities.notifications) return
    try {
      this.#subscription = await this.store.listen(this.queues, () => this.nudge())
    } catch (e) {
      this.#log.warn('LISTEN failed: this worker polls every pollIntervalMs instead', {
        error: toError(e).message,
      })
    }
  }

  /** The handler of a message's queue. */
  #handlerFor(msg: QueueMessage<T>): Handler<T> {
    return this.#handlers.get(msg.queue) ?? this.#handlers.get(this.queue)!
  }

  /** Wakes the loop if it is waiting for messages (called on NOTIFY and local enqueues). */
  nudge(): void {
    this.#wakeRequested = true
    for (const wake of this.#wakers) wake()
  }

  /**
   * Waits `ms`, or less when nudged (if `wakeable`) or stopped. A wakeable wait returns at once for
   * a nudge that came while nobody waited (a poll must not miss a NOTIFY); whichever lane takes
   * it claims next, or waits for a slot whose freeing nudges again.
   */
  async #idle(ms: number, wakeable = true): Promise<void> {
    if (wakeable && this.#wakeRequested) {
      this.#wakeRequested = false
      return
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      const wakers = this.#wakers
      const stopWakers = this.#stopWakers
      function done() {
        clearTimeout(timer)
        wakers.delete(done)
        stopWakers.delete(done)
        resolve()
      }
      if (wakeable) wakers.add(done)
      stopWakers.add(done)
    })
    if (wakeable) this.#wakeRequested = false
  }

  /**
   * The claim loop: one lane per batch that fits in the free slots (plus `prefetch`), so a worker
   * whose concurrency is larger than its batch keeps several claims in flight, as graphile-worker
   * runs `concurrency` fetches at once. The lanes share one budget ({@link #room}); lanes after the
   * first run only while claims come back full, so an idle queue is polled by one lane.
   */
  async #run(): Promise<void> {
    const { concurrency, prefetch, batchSize } = this.config
    const max = Math.max(1, this.store.config.maxConnections - 1) // one connection may be LISTENing
    const lanes = Math.min(Math.ceil((concurrency + prefetch) / batchSize), max)
    await Promise.all(Array.from({ length: lanes }, (_, i) => this.#lane(i)))
  }

  /** Messages the worker may still ask for: free slots and prefetch room, minus what is held or asked for. */
  #room(): number {
    const { concurrency, prefetch } = this.config
    return concurrency + prefetch - this.#handling - this.#local.size - this.#requested
  }

  async #lane(lane: number): Promise<void> {
    let errors = 0
    while (this.#state === 'running') {
      if (lane > 0 && (!this.#busy || this.#paused)) {
        await this.#park()
        continue
      }
      const room = this.#room()
      if (room <= 0 || this.#paused) {
        await this.#idle(this.#paused ? this.config.pollIntervalMs : 1_000)
        continue
      }
      const n = Math.min(this.config.batchSize, room)
      let batch: QueueMessage<T>[]
      this.#requested += n
      try {
        batch = await this.#claim(n)
        errors = 0
      } catch (e) {
        errors++
        this.#setBusy(false) // only the first lane retries, with backoff
        this.#emitError(e)
        // Only stop() cuts this wait short: an enqueue must not turn the backoff into a hot loop.
        await this.#idle(
          Math.min(
            this.config.errorBackoffMs * 2 ** Math.min(errors - 1, 16),
            this.config.maxErrorBackoffMs,
          ),
          false,
        )
        continue
      } finally {
        this.#requested -= n
      }
      if (this.#state !== 'running') {
        // stop() began while we were claiming: give the batch straight back.
        await this.#consumer!.store.messages.release(batch).catch((e) => this.#emitError(e))
        break
      }
      this.#setBusy(batch.length === n)
      if (batch.length === 0) {
        if (lane > 0) continue
        await this.#idle(await this.#emptyWaitMs())
        continue
      }
      for (const msg of batch) this.#dispatch(msg)
    }
  }

  /**
   * How long a lane waits after an empty claim: `pollIntervalMs`, or less when one of the worker's
   * rate-limited queues gets budget back sooner (its messages are claimed as soon as the rate
   * allows, without polling in between). One statement per rate-limited queue; none for others.
   */
  async #emptyWaitMs(): Promise<number> {
    let wait = this.config.pollIntervalMs
    const rateWaitMs = this.store.messages.rateWaitMs?.bind(this.store.messages)
    if (!rateWaitMs) return wait
    for (const q of this.#rated) {
      try {
        const w = await rateWaitMs(q)
        if (w !== null) wait = Math.min(wait, w)
      } catch (e) {
        this.#emitError(e)
      }
    }
    return wait
  }

  /** Reads which of the worker's queues have a rate limit (at start, then every 4th heartbeat). */
  async #readRated(): Promise<void> {
    const queues = this.store.queues
    if (!queues.limits || !this.store.messages.rateWaitMs) return
    const rated: string[] = []
    for (const q of this.queues) if ((await queues.limits(q))?.rateLimit) rated.push(q)
    this.#rated = rated
  }

  /** Records whether the last claim came back full; a full one wakes the parked lanes. */
  #setBusy(full: boolean): void {
    this.#busy = full
    if (!full) return
    for (const wake of this.#parked) wake()
  }

  /** Parks a lane until a claim comes back full, or stop(). */
  #park(): Promise<void> {
    return new Promise<void>((resolve) => {
      const parked = this.#parked
      const stopWakers = this.#stopWakers
      function done() {
        parked.delete(done)
        stopWakers.delete(done)
        resolve()
      }
      parked.add(done)
      stopWakers.add(done)
    })
  }

  /** Hands a claimed message to a free handler slot, or holds it (prefetch) until one frees up. */
  #dispatch(msg: QueueMessage<T>): void {
    if (this.#handling < this.config.concurrency && this.#local.size === 0) this.#handle(msg)
    else this.#local.push(msg, Date.now() + this.#renewEvery)
  }

  /** Starts held (prefetched) messages while handler slots are free; none once stop() began. */
  #startHeld(): void {
    while (this.#state === 'running' && this.#handling < this.config.concurrency) {
      const held = this.#local.shift()
      if (!held) return
      this.#handle(held.msg, held.renewAt)
    }
  }

  /** stop(): gives every held (prefetched) message back at once, so other workers can take it. */
  async #releaseHeld(): Promise<void> {
    const held = this.#local.takeAll()
    if (held.length === 0) return
    await this.store.messages.release(held).catch((e) => this.#emitError(e))
  }

  /**
   * Claims up to `n` messages. Finished messages waiting to be settled (archived, or deleted with
   * `onSuccess: 'delete'`) go along in the same round trip and commit (`settleAndDequeue`), so a
   * busy worker pays one statement per batch, not two.
   */
  async #claim(n: number): Promise<QueueMessage<T>[]> {
    if (this.queues.length > 1) return this.#claimAcross(n)
    const settling = this.#toSettle
    if (settling.length === 0) {
      return this.#consumer!.dequeue({ batchSize: n, leaseMs: this.config.leaseMs })
    }
    this.#toSettle = []
    let got: { settled: boolean[]; messages: QueueMessage[] }
    try {
      got = await settleAndDequeue(
        this.store,
        settling.map((p) => p.msg),
        this.queue,
        {
          batchSize: n,
          leaseMs: this.config.leaseMs,
          consumerId: this.#record!.id,
          settle: this.config.onSuccess,
          outcomes: settling.map((p) => p.outcome),
        },
      )
    } catch (e) {
      for (const p of settling) p.reject(e)
      throw e
    }
    for (const [i, p] of settling.entries()) p.resolve(got.settled[i] ?? false)
    return got.messages as QueueMessage<T>[]
  }

  /**
   * A worker over several queues claims across them in one statement (`dequeueQueues`, archiving
   * its finished messages in the same transaction), by priority then age; a store without that
   * shortcut is asked queue by queue, starting with a different queue each time.
   */
  async #claimAcross(n: number): Promise<QueueMessage<T>[]> {
    const settling = this.#toSettle
    this.#toSettle = []
    const { messages } = this.store
    const leaseMs = this.config.leaseMs
    const consumerId = this.#record!.id
    try {
      let archive = settling
      if (settling.length > 0 && (this.config.onSuccess === 'delete' || !messages.dequeueQueues)) {
        const refs = settling.map((p) => p.msg)
        const oks =
          this.config.onSuccess === 'delete'
            ? await messages.delete(refs)
            : await messages.archive(refs, { outcomes: settling.map((p) => p.outcome) })
        for (const [i, p] of settling.entries()) p.resolve(oks[i] ?? false)
        archive = []
      }
      if (messages.dequeueQueues) {
        const got = await messages.dequeueQueues(this.queues, {
          batchSize: n,
          leaseMs,
          consumerId,
          settle: archive.map((p) => p.msg),
          outcomes: archive.map((p) => p.outcome),
        })
        for (const [i, p] of archive.entries()) p.resolve(got.settled[i] ?? false)
        return got.messages as QueueMessage<T>[]
      }
      const start = this.#nextQueue++ % this.queues.length
      const out: QueueMessage<T>[] = []
      for (let k = 0; k < this.queues.length && out.length < n; k++) {
        const q = this.queues[(start + k) % this.queues.length]!
        const got = await messages.dequeue(q, { batchSize: n - out.length, leaseMs, consumerId })
        out.push(...(got as QueueMessage<T>[]))
      }
      return out
    } catch (e) {
      for (const p of settling) p.reject(e)
      throw e
    }
  }

  /** Settles `msg` with the loop's next claim, or on its own on the next turn when none comes first. */
  #settle(msg: QueueMessage<T>, outcome: SettleOutcome): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#toSettle.push({ msg, outcome, resolve, reject })
      if (this.#settleScheduled) return
      this.#settleScheduled = true
      setImmediate(() => {
        this.#settleScheduled = false
        const batch = this.#toSettle
        if (batch.length === 0) return // the loop took them with its claim
        this.#toSettle = []
        const msgs = batch.map((p) => p.msg)
        const { messages } = this.store
        ;(this.config.onSuccess === 'delete'
          ? messages.delete(msgs)
          : messages.archive(msgs, { outcomes: batch.map((p) => p.outcome) })
        ).then(
          (oks) => {
            for (const [i, p] of batch.entries()) p.resolve(oks[i] ?? false)
          },
          (e) => {
            for (const p of batch) p.reject(e)
          },
        )
      })
    })
  }

  /** Renew a lease once half of it has run out. */
  get #renewEvery(): number {
    return Math.max(50, Math.floor(this.config.leaseMs / 2))
  }

  /** How often the renewal timer looks for leases due (an eighth of a lease, 10 ms at least). */
  get #renewCheckMs(): number {
    return Math.max(10, Math.floor(this.config.leaseMs / 8))
  }

  /** The renewal timer: extends the lease of every running handler whose renewal is due. */
  #renewDue(): void {
    const now = Date.now()
    for (const entry of this.#inFlight.values()) {
      if (entry.finished || entry.abandoned || entry.lost || entry.renewAt > now) continue
      entry.renewAt = now + this.#renewEvery
      void this.#renew(entry)
    }
    for (const msg of this.#local.due(now, this.#renewEvery)) void this.#renewHeld(msg)
  }

  /** Renews the lease of a held (prefetched) message; a lost one is dropped (its new holder has it). */
  async #renewHeld(msg: QueueMessage<T>): Promise<void> {
    try {
      const ok = await this.#consumer!.extendLease(msg, this.config.leaseMs)
      if (!ok && this.#local.drop(msg)) this.emit('lease:lost', msg)
    } catch (e) {
      this.#emitError(e)
    }
  }

  async #renew(entry: InFlight<T>): Promise<void> {
    try {
      const ok = await this.#consumer!.extendLease(entry.msg, this.config.leaseMs)
      if (!ok && !entry.abandoned && !entry.finished && !entry.lost) {
        entry.lost = true
        entry.abort(new LeaseLostError(entry.msg.id, 'renew'))
        this.emit('lease:lost', entry.msg)
      }
    } catch (e) {
      this.#emitError(e)
    }
  }

  #handle(msg: QueueMessage<T>, renewAt = Date.now() + this.#renewEvery): void {
    const consumer = this.#consumer!
    const entry = new InFlight<T>(
      msg,
      this,
      renewAt,
      (ms = this.config.leaseMs) => consumer.extendLease(msg, ms),
      () => this.#heartbeatNow(),
    )
    // The entry is registered before the handler runs, so stop() always sees it.
    this.#inFlight.set(msg.id, entry)
    entry.done = this.#process(entry).finally(() => {
      // (a message redelivered to this worker after a timeout has a new entry under its id)
      if (this.#inFlight.get(msg.id) === entry) this.#inFlight.delete(msg.id)
      this.nudge()
    })
  }

  /** The message's own timeout, else the worker's; null for none. */
  #timeoutOf(msg: QueueMessage<T>): number | null {
    return msg.timeoutMs ?? this.config.timeoutMs
  }

  /**
   * Runs the handler, bounded by the message's timeout when it has one: past it, `ctx.signal`
   * aborts with a `TimeoutError` and this rejects with it, whatever the handler does; the worker
   * then stops renewing, frees the slot and fails the delivery like any error. The abandoned
   * handler's own late settle is refused by the fence (the failure cleared its lease).
   */
  #runHandler(entry: InFlight<T>): unknown {
    const ms = this.#timeoutOf(entry.msg)
    const run = this.#handlerFor(entry.msg)(entry.msg, entry)
    if (ms === null) return run
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (entry.finished || entry.abandoned || entry.lost) return
        const error = new TimeoutError(`handler of message ${entry.msg.id}`, ms)
        entry.timedOut = true
        entry.finished = true // no more renewals from here on
        entry.abort(error)
        reject(error)
      }, ms)
      timer.unref?.()
    })
    const handled = Promise.resolve(run)
    handled.catch(() => {}) // an abandoned handler's late rejection is nobody's to handle
    return Promise.race([handled, expired]).finally(() => clearTimeout(timer))
  }

  /**
   * What a successful handler's return value becomes: the outcome stored with the archived
   * message (the result, validated like a payload, and when this delivery began: the claim set
   * `visibleAt = now() + leaseMs` on the database clock). A result that is not storable JSON
   * fails the delivery with its `ValidationError`.
   */
  #outcomeOf(msg: QueueMessage<T>, value: unknown): SettleOutcome {
    const startedAt = new Date(msg.visibleAt.getTime() - this.config.leaseMs)
    if (value === undefined) return { startedAt }
    validatePayload(value, this.store.config.validation)
    return { result: value, startedAt }
  }

  async #process(entry: InFlight<T>): Promise<void> {
    const { msg } = entry
    const consumer = this.#consumer!
    try {
      this.emit('message:start', msg)
      let failure: unknown = null
      let ok = false
      let settled = false
      let kept: SettleOutcome | null = null
      this.#handling++
      try {
        const value = await this.#runHandler(entry)
        settled = value === SETTLED
        if (!settled) kept = this.#outcomeOf(msg, value)
        ok = true
      } catch (e) {
        failure = e
      } finally {
        this.#handling--
        entry.finished = true
        this.#startHeld()
      }
      if (entry.abandoned || entry.lost) return // released by stop(), or taken over: the new holder settles it
      if (ok && settled) {
        this.emit('message:done', msg)
        return
      }
      if (ok) {
        const settled = this.#settle(msg, kept!)
        this.nudge() // a free slot: the loop's next claim carries this settle
        if (await settled) this.emit('message:done', msg)
        else this.emit('lease:lost', msg)
        return
      }
      const error = toError(failure)
      const outcome = await consumer.fail(msg, error)
      if (outcome === 'dead') this.emit('message:dead', msg, error)
      else if (outcome === 'retried') this.emit('message:failed', msg, error)
      else this.emit('lease:lost', msg)
    } catch (e) {
      // A store error while settling: the lease runs out and the message comes back by itself.
      this.#emitError(e)
    }
  }

  #emitError(e: unknown): void {
    const error = toError(e)
    if (this.listenerCount('error') > 0) this.emit('error', error)
    else this.#log.error(`worker error: ${error.message}`, { error })
  }

  async #heartbeatNow(): Promise<void> {
    if (this.#record) await this.store.workers.heartbeat(this.#record.id)
  }

  /** Heartbeat timer: beats (also while handlers run), follows suspend/interrupt, marks stale peers stopped. */
  async #beat(): Promise<void> {
    if (!this.#record || this.#state !== 'running') return
    try {
      await this.#heartbeatNow()
      const me = await this.store.workers.get(this.#record.id)
      if (me?.status === 'suspended') {
        if (!this.#paused) {
          this.#paused = true
          this.emit('suspended')
        }
      } else if (me?.status === 'interrupted') {
        this.#log.info('worker interrupted from outside: stopping')
        void this.stop()
      } else if (me?.status === 'stopped') {
        this.#log.warn('worker was marked stopped (stale heartbeat?): stopping')
        void this.stop()
      } else if (this.#paused && me?.status === 'ready') {
        this.#paused = false
        this.#record = await this.store.workers.transition(this.#record.id, 'polling')
        this.emit('resumed')
        this.nudge()
      }
      if (++this.#ticks % 4 === 0) {
        await this.store.workers.markStale(this.config.staleAfterMs)
        await this.#readRated()
      }
    } catch (e) {
      this.#emitError(e)
    }
  }

  /**
   * Stops leasing, waits up to `graceMs` for in-flight handlers, then aborts the rest and releases
   * their messages. Resolves when this worker holds no lease; safe to call twice.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.graceMs ?? this.config.graceMs)
    return this.#stopping
  }

  async #stop(graceMs: number): Promise<void> {
    if (this.#state === 'idle') {
      this.#state = 'stopped'
      return
    }
    this.#state = 'stopping'
    this.nudge()
    for (const wake of this.#stopWakers) wake()
    await this.#starting?.catch(() => {})
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer)
    await this.#scheduler?.release()
    await this.#loop
    await this.#releaseHeld()
    const all = Promise.all([...this.#inFlight.values()].map((f) => f.done))
    let graceTimer: NodeJS.Timeout | undefined
    await Promise.race([
      all,
      new Promise<void>((r) => {
        graceTimer = setTimeout(r, graceMs)
      }),
    ])
    clearTimeout(graceTimer) // a pending grace timer would keep the process alive after stop()
    if (this.#renewTimer) clearInterval(this.#renewTimer) // leases were renewed during the grace period
    const left = [...this.#inFlight.values()]
    if (left.length > 0) {
      for (const f of left) {
        f.abandoned = true
        f.abort(new WorkerStoppedError())
      }
      await this.store.messages.release(left.map((f) => f.msg)).catch((e) => this.#emitError(e))
    }
    this.#unlisten?.()
    await this.#subscription?.close().catch(() => {})
    if (this.#record) {
      try {
        // polling/ready/interrupted → suspended → stopped (a suspended worker skips the first step)
        const now = await this.store.workers.get(this.#record.id)
        if (now && now.status !== 'suspended' && now.status !== 'stopped') {
          await this.store.workers.transition(now.id, 'suspended')
        }
        if (now && now.status !== 'stopped') {
          this.#record = await this.store.workers.transition(now.id, 'stopped')
        }
      } catch (e) {
        this.#log.warn('could not mark the worker stopped', { error: toError(e).message })
      }
    }
    this.#state = 'stopped'
    this.emit('stopped')
  }
}

/**
 * Creates a {@link Worker} (call `start()` to run it): over one queue with one handler, or over
 * several queues with a handler each (`{ emails: handleEmail, reports: handleReport }`), claimed
 * across them in one statement by priority, then age.
 *
 * @example
 * ```ts
 * const worker = pgqrs.worker(store, 'tasks', async (msg) => { await work(msg.payload) }, { concurrency: 8 })
 * await worker.start()
 * const many = pgqrs.worker(store, { emails: sendEmail, reports: buildReport }, { concurrency: 4 })
 * ```
 */
export function worker<T = unknown>(
  store: Store,
  queue: string,
  handler: Handler<T>,
  options?: WorkerOptions,
): Worker<T>
export function worker(
  store: Store,
  handlers: HandlerMap<any>,
  options?: WorkerOptions,
): Worker<any>
export function worker<T = unknown>(
  store: Store,
  queue: string | HandlerMap<T>,
  handler?: Handler<T> | WorkerOptions,
  options?: WorkerOptions,
): Worker<T> {
  return new Worker<T>(store, queue, handler, options)
}

/** Queue name → its handler, for a worker over several queues. */
export type HandlerMap<T = any> = Readonly<Record<string, Handler<T>>>

/** Validates a handler map: 1 to 100 queues, valid names, a function each. */
function handlerMap<T>(map: HandlerMap<T>): Map<string, Handler<T>> {
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw new ConfigError('handlers', 'pass a queue name and a handler, or { queue: handler, … }')
  const entries = Object.entries(map)
  if (entries.length < 1 || entries.length > 100)
    throw new ConfigError('handlers', `a worker takes 1 to 100 queues, got ${entries.length}`)
  for (const [q, h] of entries) {
    validateName('queue', q)
    if (typeof h !== 'function')
      throw new ConfigError(
        `handlers.${q}`,
        `the handler of queue "${q}" must be a function (msg, ctx) => …`,
      )
  }
  return new Map(entries)
}
