import { ConfigError } from './errors.js'

/** How long to wait before retry number `attempt` (0 = the first retry). */
export type BackoffStrategy =
  | { readonly kind: 'fixed'; readonly delayMs: number }
  | { readonly kind: 'exponential'; readonly baseMs: number; readonly maxMs: number }
  | { readonly kind: 'exponentialJitter'; readonly baseMs: number; readonly maxMs: number }

/** Constructors for {@link BackoffStrategy}. */
export const BackoffStrategy = Object.freeze({
  /** Always `delayMs`. */
  fixed(delayMs: number): BackoffStrategy {
    return checkBackoff({ kind: 'fixed', delayMs })
  },
  /** `min(baseMs * 2^attempt, maxMs)`. */
  exponential(baseMs: number, maxMs: number): BackoffStrategy {
    return checkBackoff({ kind: 'exponential', baseMs, maxMs })
  },
  /** `min(baseMs * 2^attempt, maxMs)` with ±25 % uniform jitter (never below 1 ms). */
  exponentialJitter(baseMs: number, maxMs: number): BackoffStrategy {
    return checkBackoff({ kind: 'exponentialJitter', baseMs, maxMs })
  },
})

/** Default retry backoff of queue messages: exponential with jitter, 1 s → 5 min. */
export const DEFAULT_BACKOFF: BackoffStrategy = Object.freeze({
  kind: 'exponentialJitter',
  baseMs: 1_000,
  maxMs: 300_000,
})

function nonNegative(field: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigError(
      field,
      `Invalid backoff ${field}: ${String(v)}; use a finite number of ms >= 0`,
    )
  }
}

/** Validates a strategy (`ConfigError` naming the field) and returns it frozen. */
export function checkBackoff(b: BackoffStrategy): BackoffStrategy {
  if (typeof b !== 'object' || b === null)
    throw new ConfigError('backoff', 'backoff must be a BackoffStrategy')
  if (b.kind === 'fixed') nonNegative('delayMs', b.delayMs)
  else if (b.kind === 'exponential' || b.kind === 'exponentialJitter') {
    nonNegative('baseMs', b.baseMs)
    nonNegative('maxMs', b.maxMs)
    if (b.maxMs < b.baseMs)
      throw new ConfigError('maxMs', `backoff maxMs (${b.maxMs}) must be >= baseMs (${b.baseMs})`)
  } else {
    throw new ConfigError(
      'backoff',
      `Unknown backoff kind ${JSON.stringify((b as { kind?: unknown }).kind)}: use fixed, exponential or exponentialJitter`,
    )
  }
  return Object.freeze({ ...b })
}

/**
 * The delay in ms before retry `attempt` (0-based). Saturates at `maxMs` for any attempt, however
 * large. `random` is injectable for tests.
 */
export function backoffDelay(
  b: BackoffStrategy,
  attempt: number,
  random: () => number = Math.random,
): number {
  if (b.kind === 'fixed') return Math.round(b.delayMs)
  // 2^1000 is finite, so baseMs 0 gives 0 (not 0 * Infinity = NaN) however large the attempt.
  const exp = Math.min(Math.max(0, Math.floor(attempt)), 1000)
  const capped = Math.min(b.baseMs * 2 ** exp, b.maxMs)
  if (b.kind === 'exponential') return Math.round(capped)
  const jitter = capped / 4
  return Math.max(1, Math.round(capped - jitter + random() * 2 * jitter))
}
