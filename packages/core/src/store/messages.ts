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
}

/** Result of {@link MessageRepository.fail}. */
export type FailOutcome = 'retried' | 'dead' | 'lost'

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
  /** Moves each message to the archive (`archivedAt` set); true per message whose lease was current. */
  archive(refs: readonly LeaseRef[]): Promise<boolean[]>
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
  /** Messages of a queue in one state (default active), oldest first; default limit 100. */
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
