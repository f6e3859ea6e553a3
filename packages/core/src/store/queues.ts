import type { QueueRecord } from '../types.js'
import type { PageOptions } from './page.js'

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
  /**
   * Enqueue time of the newest active message, or of the last archived or last dead-lettered
   * message when that one is newer (the archive is probed at the end of its indexes, not scanned).
   */
  readonly newestEnqueuedAt: Date | null
}

/**
 * A rate limit: at most `max` claims in any window of `perMs`, per concurrency key with
 * `perKey`. Claims are evenly spaced (one every `perMs / max` ms), with no burst.
 */
export interface RateLimit {
  readonly max: number
  readonly perMs: number
  /**
   * Count claims per `concurrencyKey` (messages without a key share one budget) instead of for
   * the whole queue. Default false.
   */
  readonly perKey: boolean
}

/**
 * Limits of a queue, enforced by the claim in the database across every worker on every host.
 * null: no limit.
 */
export interface QueueLimits {
  /** At most this many messages of the queue leased at once (an expired lease frees its slot). */
  readonly maxConcurrency: number | null
  /** At most this many messages with the same `concurrencyKey` leased at once. */
  readonly concurrencyPerKey: number | null
  /** At most `max` claims per `perMs`, evenly spaced. */
  readonly rateLimit: RateLimit | null
}

/** Queues by name. */
export interface QueueRepository {
  /** Creates a queue; throws `QueueAlreadyExistsError` when the name is taken. */
  create(name: string): Promise<QueueRecord>
  /** Get-or-create in one statement (`INSERT … ON CONFLICT`); safe under concurrency. */
  ensure(name: string): Promise<QueueRecord>
  /** The queue, or null. */
  get(name: string): Promise<QueueRecord | null>
  /** Queues by name, one page (default 100, at most 1000) after the name `after`. */
  list(options?: PageOptions<string>): Promise<QueueRecord[]>
  /**
   * Deletes a queue and its archive. Refused with `ConflictError` while it has active (pending,
   * delayed or leased) messages or workflow runs, unless `force`. Returns false when it did not exist.
   */
  delete(name: string, options?: { force?: boolean }): Promise<boolean>
  /** Deletes every message of the queue (active, archived and dead); returns how many. */
  purge(name: string): Promise<number>
  /**
   * Metrics for one queue (null when it does not exist) — one query. Its cost does not grow with
   * the archive: archived and dead come from counts that the archive's triggers keep
   * (`pgqrs_archive_counts`), never from counting archived rows.
   */
  metrics(name: string): Promise<QueueMetrics | null>
  /** Metrics of one page of queues by name (default 100, at most 1000) — one query. */
  allMetrics(options?: PageOptions<string>): Promise<QueueMetrics[]>
  /**
   * Optional (a store without it has no concurrency limits). The queue's limits; null when the
   * queue does not exist.
   */
  limits?(name: string): Promise<QueueLimits | null>
  /**
   * Optional. Sets the given limits of the queue (a field left out stays as it is; null removes
   * that limit) and returns them all; null when the queue does not exist.
   */
  setLimits?(
    name: string,
    limits: {
      readonly maxConcurrency?: number | null
      readonly concurrencyPerKey?: number | null
      readonly rateLimit?: {
        readonly max: number
        readonly perMs: number
        readonly perKey?: boolean
      } | null
    },
  ): Promise<QueueLimits | null>
}
