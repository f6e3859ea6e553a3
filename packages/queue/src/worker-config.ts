import {
  type BackoffInput,
  type BackoffStrategy,
  checkBackoff,
  ConfigError,
  DEFAULT_BACKOFF,
  MAX_BATCH_SIZE,
  type ResolvedConfig,
  validateName,
} from '@pgqrs/core'
import { checkGivenName } from './identity.js'

/** Options of a {@link Worker}; every field has a default. */
export interface WorkerOptions {
  /** Registry name (unique while the worker lives). Default: generated from host, pid and queue. */
  readonly name?: string
  /**
   * OpenTelemetry spans (`process`, `settle`) and metrics for this worker, through
   * `@opentelemetry/api` (no-ops until the app registers an SDK). Default true; false skips even
   * the no-op calls.
   */
  readonly telemetry?: boolean
  /** Handlers running at once. Default 1. */
  readonly concurrency?: number
  /** Messages claimed per dequeue (never more than the free slots). Default: `concurrency`. */
  readonly batchSize?: number
  /**
   * Messages a worker may claim ahead of its free handler slots while every slot is busy
   * (graphile-worker's local queue): they wait in the worker, leases renewed, and start as slots
   * free up; `stop()` releases them at once. Default 0 (claim only for free slots, the fairest
   * split between workers when jobs are long); a drain of short jobs gains from `batchSize`.
   */
  readonly prefetch?: number
  /** Lease per message; renewed automatically at half-time while the handler runs. Default the store's `leaseMs`. */
  readonly leaseMs?: number
  /** Wait between polls of an empty queue (a wake-up ends it early). Default the store's `pollIntervalMs`. */
  readonly pollIntervalMs?: number
  /** Heartbeat period. Default the store's `heartbeatIntervalMs`. */
  readonly heartbeatIntervalMs?: number
  /** A worker whose heartbeat is older than this is marked stopped by its peers. Default 6 heartbeats (min 30 s). */
  readonly staleAfterMs?: number
  /**
   * Retry delays of failed messages: a {@link BackoffStrategy}, a list of delays in ms (retry `i`
   * waits the `i`-th, then the last again) or a function `(attempt, error) => ms`. Default
   * exponential with jitter, 1 s → 5 min.
   */
  readonly backoff?: BackoffInput
  /**
   * A handler running longer than this many ms is abandoned: its `ctx.signal` aborts with a
   * `TimeoutError`, its lease is no longer renewed, its slot is freed (even if it ignores the
   * signal) and the delivery is recorded as failed (retry with backoff, or dead letter). A
   * message's own `timeoutMs` (enqueue option) wins. Default: no timeout.
   */
  readonly timeoutMs?: number
  /** First wait after a store error; doubles per consecutive error. Default 100 ms. */
  readonly errorBackoffMs?: number
  /** Cap of the store-error backoff. Default 30 000 ms. */
  readonly maxErrorBackoffMs?: number
  /** Default grace period of `stop()`. Default 10 000 ms. */
  readonly graceMs?: number
  /** Aborting it stops the worker (as `stop()`). */
  readonly signal?: AbortSignal
  /**
   * What happens to a message whose handler succeeded: `'archive'` (default) keeps it in the
   * archive for audit and replay; `'delete'` removes it for good (less write work per message, as
   * job queues that delete completed jobs do). Failed messages are retried or dead-lettered alike.
   */
  readonly onSuccess?: 'archive' | 'delete'
  /**
   * Fire cron schedules (see `schedule`) from this process: the worker takes a share of the
   * process's one scheduler per store (started by the first worker, stopped with the last), which
   * reads the due schedules in one statement per poll. `false` runs none; an object sets the
   * scheduler's `pollIntervalMs` (taken from the worker that starts it). Default true (poll every
   * 1 000 ms). A store without a schedules repository runs none.
   */
  readonly scheduler?: boolean | { readonly pollIntervalMs?: number }
}

/** {@link WorkerOptions} with defaults filled in. */
export interface WorkerConfig {
  readonly name: string | undefined
  readonly telemetry: boolean
  readonly concurrency: number
  readonly batchSize: number
  readonly prefetch: number
  readonly leaseMs: number
  readonly pollIntervalMs: number
  readonly heartbeatIntervalMs: number
  readonly staleAfterMs: number
  readonly backoff: BackoffStrategy
  readonly errorBackoffMs: number
  readonly maxErrorBackoffMs: number
  readonly graceMs: number
  readonly signal: AbortSignal | undefined
  readonly onSuccess: 'archive' | 'delete'
  readonly timeoutMs: number | null
  /** The scheduler's options, or null: this worker runs no scheduler. */
  readonly scheduler: { readonly pollIntervalMs: number } | null
}

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(
      field,
      `Invalid worker option ${field}: ${String(v)}; use an integer from ${min} to ${max}`,
    )
  }
  return v
}

const MAX_MS = 2_147_483_647

/** Validates worker options once (`ConfigError` naming the field) and fills in defaults. */
export function resolveWorkerConfig(o: WorkerOptions, store: ResolvedConfig): WorkerConfig {
  if (typeof o !== 'object' || o === null)
    throw new ConfigError('options', 'worker options must be an object')
  const concurrency = int('concurrency', o.concurrency ?? 1, 1, 10_000)
  const heartbeatIntervalMs = int(
    'heartbeatIntervalMs',
    o.heartbeatIntervalMs ?? store.heartbeatIntervalMs,
    10,
    MAX_MS,
  )
  if (o.name !== undefined) {
    validateName('worker', o.name)
    checkGivenName(o.name)
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal))
    throw new ConfigError('signal', 'signal must be an AbortSignal')
  const onSuccess = o.onSuccess ?? 'archive'
  if (onSuccess !== 'archive' && onSuccess !== 'delete')
    throw new ConfigError(
      'onSuccess',
      `Invalid worker option onSuccess: ${String(onSuccess)}; use 'archive' or 'delete'`,
    )
  if (o.telemetry !== undefined && typeof o.telemetry !== 'boolean')
    throw new ConfigError('telemetry', 'Invalid worker option telemetry: use true or false')
  return Object.freeze({
    name: o.name,
    telemetry: o.telemetry ?? true,
    concurrency,
    batchSize: int('batchSize', o.batchSize ?? concurrency, 1, MAX_BATCH_SIZE),
    prefetch: int('prefetch', o.prefetch ?? 0, 0, 10_000),
    leaseMs: int('leaseMs', o.leaseMs ?? store.leaseMs, 100, MAX_MS),
    pollIntervalMs: int('pollIntervalMs', o.pollIntervalMs ?? store.pollIntervalMs, 1, MAX_MS),
    heartbeatIntervalMs,
    staleAfterMs: int(
      'staleAfterMs',
      o.staleAfterMs ?? Math.max(30_000, heartbeatIntervalMs * 6),
      1,
      MAX_MS,
    ),
    backoff: o.backoff === undefined ? DEFAULT_BACKOFF : checkBackoff(o.backoff),
    errorBackoffMs: int('errorBackoffMs', o.errorBackoffMs ?? 100, 1, MAX_MS),
    maxErrorBackoffMs: int('maxErrorBackoffMs', o.maxErrorBackoffMs ?? 30_000, 1, MAX_MS),
    graceMs: int('graceMs', o.graceMs ?? 10_000, 0, MAX_MS),
    signal: o.signal,
    onSuccess,
    timeoutMs: o.timeoutMs === undefined ? null : int('timeoutMs', o.timeoutMs, 1, MAX_MS),
    scheduler: schedulerOption(o.scheduler),
  })
}

function schedulerOption(
  v: WorkerOptions['scheduler'],
): { readonly pollIntervalMs: number } | null {
  if (v === false) return null
  if (v === undefined || v === true) return Object.freeze({ pollIntervalMs: 1000 })
  if (typeof v !== 'object' || v === null)
    throw new ConfigError(
      'scheduler',
      'Invalid worker option scheduler: use true, false or { pollIntervalMs }',
    )
  return Object.freeze({
    pollIntervalMs: int('scheduler.pollIntervalMs', v.pollIntervalMs ?? 1000, 10, 3_600_000),
  })
}
