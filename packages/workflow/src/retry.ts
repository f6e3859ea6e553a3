import {
  type BackoffStrategy,
  BackoffStrategy as Backoff,
  backoffDelay,
  checkBackoff,
  ConfigError,
} from '@pgqrs/core'

/**
 * How a failing step is retried: it runs at most `maxAttempts` times in all (the first execution
 * and `maxAttempts - 1` retries), each retry after `backoff` for its retry number. The same
 * meaning as a message's `maxAttempts`, which counts deliveries.
 */
export interface StepRetryPolicy {
  readonly maxAttempts: number
  readonly backoff: BackoffStrategy
}

/** Default step policy: 4 attempts (3 retries), exponential with jitter, 1 s base, 60 s cap. */
export const DEFAULT_STEP_RETRY: StepRetryPolicy = Object.freeze({
  maxAttempts: 4,
  backoff: Backoff.exponentialJitter(1_000, 60_000),
})

/** Validates a (partial) policy and fills in the defaults (`ConfigError` naming the field). */
export function resolveRetry(
  p: Partial<StepRetryPolicy> | undefined,
  base: StepRetryPolicy = DEFAULT_STEP_RETRY,
): StepRetryPolicy {
  if (p === undefined) return base
  if (typeof p !== 'object' || p === null)
    throw new ConfigError('retry', 'retry must be { maxAttempts?, backoff? }')
  const maxAttempts = p.maxAttempts ?? base.maxAttempts
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 10_000) {
    throw new ConfigError(
      'retry.maxAttempts',
      `Invalid retry.maxAttempts ${String(maxAttempts)}: use an integer from 1 (no retry) to 10000; it counts executions, the first one included`,
    )
  }
  return Object.freeze({
    maxAttempts,
    backoff: p.backoff === undefined ? base.backoff : checkBackoff(p.backoff),
  })
}

/** The delay before retry number `retry` (0-based), preferring the error's own `retryAfterMs`. */
export function retryDelay(policy: StepRetryPolicy, retry: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0)
    return Math.round(retryAfterMs)
  return backoffDelay(policy.backoff, retry)
}
