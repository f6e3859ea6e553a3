import { ConfigError } from './errors.js'

/**
 * A custom retry delay: `attempt` is the number of the delivery that failed (1 for the first),
 * `error` what it failed with; return the delay in ms (a finite number from 0 to 10 years).
 */
export type BackoffFunction = (attempt: number, error: Error) => number

/** How long to wait before retry number `attempt` (0 = the first retry). */
export type BackoffStrategy =
  | { readonly kind: 'fixed'; readonly delayMs: number }
  | { readonly kind: 'exponential'; readonly baseMs: number; readonly maxMs: number }
  | { readonly kind: 'exponentialJitter'; readonly baseMs: number; readonly maxMs: number }
  /** Retry `i` (0-based) waits `delaysMs[i]`; past the end, the last delay again. */
  | { readonly kind: 'schedule'; readonly delaysMs: readonly number[] }
  | { readonly kind: 'custom'; readonly delay: BackoffFunction }

/**
 * What a `backoff` option accepts: a {@link BackoffStrategy}, a list of delays in ms (retry `i`
 * waits the `i`-th, then the last one again), or a {@link BackoffFunction}.
 */
export type BackoffInput = BackoffStrategy | readonly number[] | BackoffFunction

const MAX_BACKOFF_MS = 315_360_000_000 // 10 years, as MAX_DELAY_MS

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
  /**
   * Retry `i` waits `delaysMs[i]`, then the last delay again, e.g. pqrun's 1 m, 5 m, 30 m, 2 h, 6 h:
   * `schedule([60_000, 300_000, 1_800_000, 7_200_000, 21_600_000])`.
   */
  schedule(delaysMs: readonly number[]): BackoffStrategy {
    return checkBackoff({ kind: 'schedule', delaysMs })
  },
  /** `delay(attempt, error)` ms; see {@link BackoffFunction}. */
  custom(delay: BackoffFunction): BackoffStrategy {
    return checkBackoff({ kind: 'custom', delay })
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

/**
 * Validates a strategy (`ConfigError` naming the field) and returns it frozen; a list of delays
 * or a function (see {@link BackoffInput}) becomes a `schedule` or `custom` strategy.
 */
export function checkBackoff(input: BackoffInput): BackoffStrategy {
  if (typeof input === 'function') return Object.freeze({ kind: 'custom', delay: input })
  const b: BackoffStrategy = Array.isArray(input)
    ? { kind: 'schedule', delaysMs: input as readonly number[] }
    : (input as BackoffStrategy)
  if (typeof b !== 'object' || b === null)
    throw new ConfigError(
      'backoff',
      'backoff must be a BackoffStrategy, a list of delays in ms or a function (attempt, error) => ms',
    )
  if (b.kind === 'fixed') nonNegative('delayMs', b.delayMs)
  else if (b.kind === 'schedule') {
    if (!Array.isArray(b.delaysMs) || b.delaysMs.length < 1 || b.delaysMs.length > 1000)
      throw new ConfigError('delaysMs', 'a backoff schedule needs 1 to 1000 delays in ms')
    b.delaysMs.forEach((d, i) => {
      nonNegative(`delaysMs[${i}]`, d)
      if (d > MAX_BACKOFF_MS)
        throw new ConfigError(`delaysMs[${i}]`, `backoff delay ${d} ms is above 10 years`)
    })
    return Object.freeze({ kind: 'schedule', delaysMs: Object.freeze([...b.delaysMs]) })
  } else if (b.kind === 'custom') {
    if (typeof b.delay !== 'function')
      throw new ConfigError('delay', 'a custom backoff needs delay: (attempt, error) => ms')
  } else if (b.kind === 'exponential' || b.kind === 'exponentialJitter') {
    nonNegative('baseMs', b.baseMs)
    nonNegative('maxMs', b.maxMs)
    if (b.maxMs < b.baseMs)
      throw new ConfigError('maxMs', `backoff maxMs (${b.maxMs}) must be >= baseMs (${b.baseMs})`)
  } else {
    throw new ConfigError(
      'backoff',
      `Unknown backoff kind ${JSON.stringify((b as { kind?: unknown }).kind)}: use fixed, exponential, exponentialJitter, schedule or custom`,
    )
  }
  return Object.freeze({ ...b })
}

/**
 * The delay in ms before retry `attempt` (0-based). Saturates at `maxMs` for any attempt, however
 * large. `random` is injectable for tests; `error` is what a `custom` strategy gets. A custom
 * function that throws or returns anything but a finite number from 0 to 10 years is a
 * `ConfigError` (the caller's failure is then not recorded: its lease runs out instead).
 */
export function backoffDelay(
  b: BackoffStrategy,
  attempt: number,
  random: () => number = Math.random,
  error: Error = new Error('unknown error'),
): number {
  if (b.kind === 'fixed') return Math.round(b.delayMs)
  if (b.kind === 'schedule') {
    const i = Math.min(Math.max(0, Math.floor(attempt)), b.delaysMs.length - 1)
    return Math.round(b.delaysMs[i]!)
  }
  if (b.kind === 'custom') {
    const v = b.delay(Math.max(0, Math.floor(attempt)) + 1, error)
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_BACKOFF_MS)
      throw new ConfigError(
        'backoff',
        `custom backoff returned ${String(v)} for attempt ${attempt + 1}; return a finite number of ms from 0 to 10 years`,
      )
    return Math.round(v)
  }
  // 2^1000 is finite, so baseMs 0 gives 0 (not 0 * Infinity = NaN) however large the attempt.
  const exp = Math.min(Math.max(0, Math.floor(attempt)), 1000)
  const capped = Math.min(b.baseMs * 2 ** exp, b.maxMs)
  if (b.kind === 'exponential') return Math.round(capped)
  const jitter = capped / 4
  return Math.max(1, Math.round(capped - jitter + random() * 2 * jitter))
}
