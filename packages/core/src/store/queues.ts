import type { QueueRecord } from '../types.js'

/** Counts for one queue, computed in one query. */
export interface QueueMetrics {
  readonly name: string
  /** Visible now and not leased. */
  readonly pending: number
  /** Leased and the lease has not run out. */
  readonly leased: number
  /** Not visible yet (delayed, or waiting for a retry). */
  readonly delayed: number
  readonly archived: number
  readonly dead: number
  /** Age of the oldest message that is visible now, in ms; null when none is. */
  readonly oldestPendingAgeMs: number | null
  readonly newestEnqueuedAt: Date | null
}

/** Queues by name. */
export interface QueueRepository {
  /** Creates a queue; throws `QueueAlreadyExistsError` when the name is taken. */
  create(name: string): Promise<QueueRecord>
  /** Get-or-create in one statement (`INSERT … ON CONFLICT`); safe under concurrency. */
  ensure(name: string): Promise<QueueRecord>
  /** The queue, or null. */
  get(name: string): Promise<QueueRecord | null>
  /** All queues, by name. */
  list(): Promise<QueueRecord[]>
  /**
   * Deletes a queue and its archive. Refused with `ConflictError` while it has active (pending,
   * delayed or leased) messages or workflow runs, unless `force`. Returns false when it did not exist.
   */
  delete(name: string, options?: { force?: boolean }): Promise<boolean>
  /** Deletes every message of the queue (active, archived and dead); returns how many. */
  purge(name: string): Promise<number>
  /** Metrics for one queue (null when it does not exist) — one query. */
  metrics(name: string): Promise<QueueMetrics | null>
  /** Metrics for every queue — one query. */
  allMetrics(): Promise<QueueMetrics[]>
}
