import type { LeaseRef, QueueMessage } from '../types.js'

/** One message to enqueue, already validated. */
export interface EnqueueItem {
  readonly payload: unknown
  /** Higher first; default 0. */
  readonly priority?: number
  /** Visible after this many ms (database clock); default 0. */
  readonly delayMs?: number
  /** Visible from this instant; wins over `delayMs`. */
  readonly runAt?: Date
  /** While a message with this key is active in the queue, that message is returned instead. */
  readonly dedupeKey?: string | null
  /** Deliveries before the message is dead; default the store's `maxAttempts`. */
  readonly maxAttempts?: number
  /**
   * Metadata stored beside the payload (string keys and values, such as the W3C trace context
   * `traceparent` of the enqueuer's span), read back with {@link MessageRepository.headers};
   * checked by `validateHeaders`.
   */
  readonly headers?: Readonly<Record<string, string>> | null
  /** Handler timeout of this message in ms (wins over the worker's); default none. */
  readonly timeoutMs?: number | null
  /**
   * The message's concurrency key (1-512 characters): with the queue's `concurrencyPerKey`, at
   * most that many messages of one key are leased at once. Default none (only the queue's
   * `maxConcurrency` applies).
   */
  readonly concurrencyKey?: string | null
}

/**
 * How a successfully handled message ended, stored with it in the archive: the handler's return
 * value (JSON, validated like a payload; undefined stores nothing) and when the delivery began
 * (database clock: the claim's `now()`, which is `visibleAt - leaseMs` of the delivered message).
 */
export interface SettleOutcome {
  readonly result?: unknown
  readonly startedAt?: Date | null
}

/** Options of {@link MessageRepository.dequeue}. */
export interface DequeueOptions {
  /** At most this many messages (1 to 1000). */
  readonly batchSize: number
  /** How long the lease lasts, in ms. */
  readonly leaseMs: number
  /** Worker id recorded as the holder. */
  readonly consumerId?: number | null
}

/** Options of {@link MessageRepository.settleAndDequeue}. */
export interface SettleAndDequeueOptions extends DequeueOptions {
  /** What settling does: keep the message in the archive (default) or delete it for good. */
  readonly settle?: 'archive' | 'delete'
  /** Per ref (same positions), what to keep with an archived message; ignored with `'delete'`. */
  readonly outcomes?: readonly (SettleOutcome | undefined)[]
}

/** Options of {@link MessageRepository.archive}. */
export interface ArchiveOptions {
  /** Per ref (same positions), what to keep with the archived message. */
  readonly outcomes?: readonly (SettleOutcome | undefined)[]
}

/** Options of {@link MessageRepository.dequeueQueues}. */
export interface DequeueQueuesOptions extends DequeueOptions {
  /** Messages to settle (archive) first, in the same transaction, as `settleAndDequeue` does. */
  readonly settle?: readonly LeaseRef[]
  /** Per settle ref, what to keep with the archived message. */
  readonly outcomes?: readonly (SettleOutcome | undefined)[]
}

/** Result of {@link MessageRepository.fail}. */
export type FailOutcome = 'retried' | 'dead' | 'lost'

/** What {@link MessageRepository.handlerMetrics} reports over a window. */
export interface HandlerMetrics {
  readonly queue: string
  /** The window: messages that finished (archived or dead) in the last `windowMs`. */
  readonly windowMs: number
  /** Messages archived in the window (handled successfully). */
  readonly handled: number
  /** Messages dead-lettered in the window. */
  readonly dead: number
  /**
   * Failed deliveries of the messages that finished in the window: each archived message's
   * attempts before the one that succeeded, and every attempt of a dead one.
   */
  readonly failed: number
  /**
   * Median and 95th percentile of the handling time of the archived messages that recorded a start
   * (`finishedAt - startedAt`, database clock), in ms; null when none did.
   */
  readonly p50Ms: number | null
  readonly p95Ms: number | null
}

/** Filter of {@link MessageRepository.list}. */
export interface ListMessagesOptions {
  readonly state?: 'active' | 'pending' | 'leased' | 'delayed' | 'archived' | 'dead'
  readonly limit?: number
}

/**
 * Messages and their leases. Every lease operation applies only while the presented lease token is
 * current (the message was not redelivered, settled or released since); otherwise it returns false
 * and changes nothing.
 */
export interface MessageRepository {
  /**
   * Inserts the items into `queue` in one statement, in order, and returns one message per item
   * (the existing message for a deduplicated item). Throws `QueueNotFoundError` when the queue is
   * missing; nothing is inserted then.
   */
  enqueue(
    queue: string,
    items: readonly EnqueueItem[],
    options?: { readonly producerId?: number | null },
  ): Promise<QueueMessage[]>
  /**
   * Atomically leases up to `batchSize` visible messages ordered by `priority DESC, visible_at,
   * id`: each gets `visibleAt = now + leaseMs`, `attempts + 1` and a fresh lease token. Visible means
   * `visible_at <= now`, which includes messages whose lease ran out. A message whose lease ran out
   * with no attempts left becomes dead instead of being delivered. Never waits to fill the batch.
   */
  dequeue(queue: string, options: DequeueOptions): Promise<QueueMessage[]>
  /**
   * Optional (a shortcut: the worker falls back to `archive`/`delete`, then `dequeue`). Settles
   * `refs` ({@link MessageRepository.archive}, or {@link MessageRepository.delete} with
   * `settle: 'delete'`), then {@link MessageRepository.dequeue} of `queue`, committed together: a
   * worker settles its finished messages and claims its next batch in one round trip. The settle
   * happens first and stands even when nothing is claimed; `settled` is true per message whose lease
   * was current. Throws `QueueNotFoundError` when the queue is missing (nothing settled then).
   */
  settleAndDequeue?(
    refs: readonly LeaseRef[],
    queue: string,
    options: SettleAndDequeueOptions,
  ): Promise<{ settled: boolean[]; messages: QueueMessage[] }>
  /**
   * Moves each message to the archive (`archivedAt` set), with its outcome when given; true per
   * message whose lease was current.
   */
  archive(refs: readonly LeaseRef[], options?: ArchiveOptions): Promise<boolean[]>
  /**
   * Optional (the worker falls back to `dequeue` per queue, in turn). Settles `options.settle`
   * like `settleAndDequeue`, then leases up to `batchSize` visible messages across all `queues` in
   * one statement, ordered by `priority DESC, visible_at, id` as one queue would be. Throws
   * `QueueNotFoundError` when one is missing (nothing settled then).
   */
  dequeueQueues?(
    queues: readonly string[],
    options: DequeueQueuesOptions,
  ): Promise<{ settled: boolean[]; messages: QueueMessage[] }>
  /**
   * Optional. Cancels a pending or delayed message that nobody leases and that is no workflow
   * run's message: it is deleted and never delivered. Returns the message as it was, or null when
   * it is leased, settled, a run's message or unknown (nothing changes then).
   */
  cancel?(id: number): Promise<QueueMessage | null>
  /**
   * Optional. Handled, dead and failed counts and handling-time percentiles of the messages of
   * `queue` that finished in the last `windowMs`; null when the queue does not exist.
   */
  handlerMetrics?(queue: string, windowMs: number): Promise<HandlerMetrics | null>
  /**
   * Optional (with rate limits: `QueueRepository.setLimits`). When `queue` has a rate limit and a
   * rate key of it (the queue, or a concurrency key with `perKey`) was claimed too recently to be
   * claimed again, the ms until the first such key may be claimed again (a worker whose claim came
   * back empty sleeps that long instead of polling); when no key waits but messages are visible,
   * one spacing (`perMs / max`); null when it has no rate limit, or nothing waits.
   */
  rateWaitMs?(queue: string): Promise<number | null>
  /** Deletes each message for good; true per message whose lease was current. */
  delete(refs: readonly LeaseRef[]): Promise<boolean[]>
  /** Sets the lease to run out `leaseMs` from now; false when the lease is not current. */
  extendLease(ref: LeaseRef, leaseMs: number): Promise<boolean>
  /**
   * Gives messages back: visible again after `delayMs`, the lease cleared and the delivery not
   * counted (`attempts - 1`). True per message whose lease was current.
   */
  release(refs: readonly LeaseRef[], delayMs?: number): Promise<boolean[]>
  /**
   * Records a failed delivery: `lastError` kept; with attempts left the message is visible again
   * after `retryDelayMs` (`'retried'`), otherwise it becomes dead (`'dead'`). `'lost'` when the
   * lease was not current.
   */
  fail(ref: LeaseRef, error: string, retryDelayMs: number): Promise<FailOutcome>
  /**
   * Makes an active message that nobody leases visible `delayMs` from now (an operator's "run it
   * now"); false when it is leased, settled or unknown.
   */
  reschedule(id: number, delayMs: number): Promise<boolean>
  /**
   * Optional (telemetry reads it; without it a handler's span starts a new trace). The headers
   * given at enqueue of each message in `ids` that has some, by message id.
   */
  headers?(ids: readonly number[]): Promise<Map<number, Readonly<Record<string, string>>>>
  /** A message by id, active, archived or dead; null when unknown. */
  get(id: number): Promise<QueueMessage | null>
  /**
   * Messages of a queue in one state (default active), oldest first: active ones by id, archived
   * and dead ones by when they were settled (then id); default limit 100.
   */
  list(queue: string, options?: ListMessagesOptions): Promise<QueueMessage[]>
  /**
   * Brings an archived or dead message back under the same id: visible now, attempts reset,
   * lease cleared. Null when no archived or dead message has that id.
   */
  replay(id: number): Promise<QueueMessage | null>
  /** Deletes archived (and dead, with `includeDead`) messages older than `olderThanMs`; never an active one. */
  purgeArchived(options: {
    olderThanMs: number
    queue?: string
    includeDead?: boolean
  }): Promise<number>
}
