import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type BackoffStrategy as Backoff,
  BackoffStrategy,
  backoffDelay,
  checkBackoff,
  ConfigError,
  DEFAULT_BACKOFF,
} from '../src/index.js'

/** A small seeded PRNG (mulberry32), so the jitter samples are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError, nothing was thrown')
}

describe('backoffDelay', () => {
  it('fixed: the same delay for every attempt', () => {
    const b = BackoffStrategy.fixed(1500)
    for (const attempt of [0, 1, 2, 10, 1e6, Number.MAX_SAFE_INTEGER]) {
      expect(backoffDelay(b, attempt)).toBe(1500)
    }
    expect(backoffDelay(BackoffStrategy.fixed(0), 3)).toBe(0)
  })

  it('exponential: 1000 → 2000 → 4000 → 8000', () => {
    const b = BackoffStrategy.exponential(1000, 3_600_000)
    expect([0, 1, 2, 3].map((a) => backoffDelay(b, a))).toEqual([1000, 2000, 4000, 8000])
  })

  it('exponential: capped at maxMs', () => {
    const b = BackoffStrategy.exponential(1000, 5000)
    expect([0, 1, 2, 3, 4, 20].map((a) => backoffDelay(b, a))).toEqual([
      1000, 2000, 4000, 5000, 5000, 5000,
    ])
  })

  it('exponential: a huge attempt saturates at maxMs, never NaN or Infinity', () => {
    const b = BackoffStrategy.exponential(1000, 300_000)
    for (const attempt of [
      1023,
      1024,
      1025,
      5000,
      1e9,
      Number.MAX_SAFE_INTEGER,
      Number.MAX_VALUE,
      Number.POSITIVE_INFINITY,
    ]) {
      const d = backoffDelay(b, attempt)
      expect(Number.isFinite(d)).toBe(true)
      expect(d).toBe(300_000)
    }
  })

  it('exponential: a negative or fractional attempt counts as the floor, at least 0', () => {
    const b = BackoffStrategy.exponential(100, 10_000)
    expect(backoffDelay(b, -3)).toBe(100)
    expect(backoffDelay(b, 2.9)).toBe(400)
  })

  it('exponentialJitter: the injected random picks a point within ±25 %', () => {
    const b = BackoffStrategy.exponentialJitter(1000, 300_000)
    expect(backoffDelay(b, 2, () => 0)).toBe(3000)
    expect(backoffDelay(b, 2, () => 0.5)).toBe(4000)
    expect(backoffDelay(b, 2, () => 0.999999)).toBe(5000)
    // the jitter applies to the capped value
    expect(backoffDelay(b, 30, () => 0)).toBe(225_000)
  })

  it('exponentialJitter: many samples stay within ±25 % and spread over the whole band', () => {
    const b = BackoffStrategy.exponentialJitter(1000, 60_000)
    const random = seeded(42)
    for (const attempt of [0, 1, 3, 5, 10, 100]) {
      const center = Math.min(1000 * 2 ** attempt, 60_000)
      const samples = Array.from({ length: 2000 }, () => backoffDelay(b, attempt, random))
      const min = Math.min(...samples)
      const max = Math.max(...samples)
      const mean = samples.reduce((s, x) => s + x, 0) / samples.length
      expect(min).toBeGreaterThanOrEqual(center * 0.75)
      expect(max).toBeLessThanOrEqual(center * 1.25)
      expect(min).toBeLessThan(center * 0.8)
      expect(max).toBeGreaterThan(center * 1.2)
      expect(Math.abs(mean - center)).toBeLessThan(center * 0.03)
    }
  })

  it('exponentialJitter: uses Math.random when none is injected', () => {
    const b = BackoffStrategy.exponentialJitter(1000, 60_000)
    const samples = new Set(Array.from({ length: 50 }, () => backoffDelay(b, 3)))
    expect(samples.size).toBeGreaterThan(1)
    for (const s of samples) expect(s).toBeGreaterThanOrEqual(6000)
  })

  it('exponentialJitter: never below 1 ms', () => {
    expect(backoffDelay(BackoffStrategy.exponentialJitter(1, 1), 0, () => 0)).toBe(1)
    expect(backoffDelay(BackoffStrategy.exponentialJitter(0, 0), 0, () => 0)).toBe(1)
  })

  it('property: every delay is a finite integer within [0.75·cap, 1.25·cap] of min(base·2^attempt, max)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.oneof(fc.integer({ min: -5, max: 100 }), fc.constant(Number.MAX_SAFE_INTEGER)),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (base, extra, attempt, r) => {
          const max = base + extra
          const cap = Math.min(base * 2 ** Math.max(0, attempt), max)
          const exp = backoffDelay(BackoffStrategy.exponential(base, max), attempt)
          expect(Number.isInteger(exp)).toBe(true)
          expect(exp).toBe(Math.round(cap))
          const jit = backoffDelay(BackoffStrategy.exponentialJitter(base, max), attempt, () => r)
          expect(Number.isInteger(jit)).toBe(true)
          expect(jit).toBeGreaterThanOrEqual(Math.max(1, Math.floor(cap * 0.75)))
          expect(jit).toBeLessThanOrEqual(Math.ceil(cap * 1.25))
        },
      ),
      { numRuns: 500 },
    )
  })

  // baseMs 0 with attempt >= 1024 would be 0 * 2^1024 = 0 * Infinity = NaN without the guard.
  it('exponential with baseMs 0: a huge attempt gives 0, not NaN', () => {
    expect(backoffDelay(BackoffStrategy.exponential(0, 1000), 5000)).toBe(0)
  })
})

describe('checkBackoff', () => {
  it('returns a frozen copy', () => {
    const input: Backoff = { kind: 'exponential', baseMs: 10, maxMs: 20 }
    const checked = checkBackoff(input)
    expect(checked).toEqual(input)
    expect(checked).not.toBe(input)
    expect(Object.isFrozen(checked)).toBe(true)
    expect(Object.isFrozen(BackoffStrategy.fixed(5))).toBe(true)
  })

  it('the default is exponential with jitter, 1 s to 5 min, and frozen', () => {
    expect(DEFAULT_BACKOFF).toEqual({ kind: 'exponentialJitter', baseMs: 1000, maxMs: 300_000 })
    expect(Object.isFrozen(DEFAULT_BACKOFF)).toBe(true)
    expect(() => checkBackoff(DEFAULT_BACKOFF)).not.toThrow()
  })

  it.each([
    ['delayMs', () => BackoffStrategy.fixed(-1)],
    ['delayMs', () => BackoffStrategy.fixed(Number.NaN)],
    ['delayMs', () => BackoffStrategy.fixed(Number.POSITIVE_INFINITY)],
    ['delayMs', () => checkBackoff({ kind: 'fixed', delayMs: '5' as unknown as number })],
    ['baseMs', () => BackoffStrategy.exponential(-1, 10)],
    ['baseMs', () => BackoffStrategy.exponentialJitter(Number.NaN, 10)],
    ['maxMs', () => BackoffStrategy.exponential(10, -1)],
    ['maxMs', () => BackoffStrategy.exponential(10, Number.POSITIVE_INFINITY)],
    ['maxMs', () => BackoffStrategy.exponentialJitter(1000, 500)],
    ['backoff', () => checkBackoff({ kind: 'linear', delayMs: 1 } as unknown as Backoff)],
    ['backoff', () => checkBackoff(null as unknown as Backoff)],
  ])('refuses a bad %s with a ConfigError naming it', (field, make) => {
    const err = configError(make)
    expect(err.field).toBe(field)
    expect(err.message).toContain(field)
  })

  it('says which kinds exist for an unknown kind', () => {
    const err = configError(() => checkBackoff({ kind: 'linear' } as unknown as Backoff))
    expect(err.message).toContain('"linear"')
    expect(err.message).toMatch(/fixed, exponential, exponentialJitter, schedule or custom/)
  })

  it('says maxMs must not be below baseMs', () => {
    expect(configError(() => BackoffStrategy.exponential(1000, 500)).message).toMatch(/>= baseMs/)
  })
})

describe('schedule and custom backoff', () => {
  it("expresses pqrun's schedule as a list: 1 m, 5 m, 30 m, 2 h, 6 h, then 6 h again", () => {
    const delays = [60_000, 300_000, 1_800_000, 7_200_000, 21_600_000]
    for (const b of [checkBackoff(delays), BackoffStrategy.schedule(delays)]) {
      expect([0, 1, 2, 3, 4, 5, 50].map((a) => backoffDelay(b, a))).toEqual([
        ...delays,
        21_600_000,
        21_600_000,
      ])
    }
  })

  it('passes the failed delivery number (1-based) and the error to a function', () => {
    const seen: [number, string][] = []
    const b = checkBackoff((attempt, error) => {
      seen.push([attempt, error.message])
      return attempt * 1_000
    })
    expect(backoffDelay(b, 2, Math.random, new Error('boom'))).toBe(3_000)
    expect(seen).toEqual([[3, 'boom']])
  })

  it('refuses empty or negative lists and a function returning a non-delay', () => {
    expect(configError(() => checkBackoff([])).message).toMatch(/1 to 1000 delays/)
    expect(configError(() => checkBackoff([1, -5])).field).toBe('delaysMs[1]')
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      const b = BackoffStrategy.custom(() => bad)
      expect(configError(() => backoffDelay(b, 0)).message).toMatch(/custom backoff returned/)
    }
  })
})
