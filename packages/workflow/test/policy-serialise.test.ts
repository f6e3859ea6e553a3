import { BackoffStrategy, ValidationError } from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import {
  CancelledError,
  NonRetryableError,
  PausedError,
  pauseError,
  resolveRetry,
  retryDelay,
  serialiseError,
  TransientStepError,
  WorkflowFailedError,
} from '../src/index.js'

describe('per-step retry policy resolution', () => {
  const workflowPolicy = resolveRetry({ maxAttempts: 7, backoff: BackoffStrategy.fixed(250) })

  it('a step without its own policy uses the workflow policy as is', () => {
    expect(resolveRetry(undefined, workflowPolicy)).toBe(workflowPolicy)
  })
  it('a partial step policy fills the missing fields from the workflow policy, not the default', () => {
    expect(resolveRetry({ maxAttempts: 1 }, workflowPolicy)).toEqual({
      maxAttempts: 1,
      backoff: { kind: 'fixed', delayMs: 250 },
    })
    expect(resolveRetry({ backoff: BackoffStrategy.fixed(5) }, workflowPolicy).maxAttempts).toBe(7)
  })
  it('a resolved policy is frozen', () => {
    expect(Object.isFrozen(resolveRetry({ maxAttempts: 1 }, workflowPolicy))).toBe(true)
  })
})

describe('retryDelay', () => {
  const policy = resolveRetry({ backoff: BackoffStrategy.exponential(100, 1_000) })

  it('falls back to the backoff when retryAfterMs is negative, NaN or infinite', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(retryDelay(policy, 1, bad)).toBe(200)
    }
  })
  it('rounds a fractional retryAfterMs and accepts 0', () => {
    expect(retryDelay(policy, 4, 12.6)).toBe(13)
    expect(retryDelay(policy, 4, 0)).toBe(0)
  })
  it('keeps exponential-with-jitter delays within ±25 % of the capped exponential', () => {
    const jitter = resolveRetry({ backoff: BackoffStrategy.exponentialJitter(1_000, 60_000) })
    for (let retry = 0; retry < 10; retry++) {
      const capped = Math.min(1_000 * 2 ** retry, 60_000)
      for (let i = 0; i < 20; i++) {
        const d = retryDelay(jitter, retry)
        expect(d).toBeGreaterThanOrEqual(Math.floor(capped * 0.75))
        expect(d).toBeLessThanOrEqual(Math.ceil(capped * 1.25))
      }
    }
  })
})

describe('serialiseError', () => {
  it('keeps the stable code of pgqrs errors and marks them permanent', () => {
    expect(serialiseError(new NonRetryableError('card declined'))).toMatchObject({
      name: 'NonRetryableError',
      code: 'NON_RETRYABLE',
      message: 'card declined',
      transient: false,
    })
    expect(serialiseError(new ValidationError('input', 1, 'a string', 'bad input'))).toMatchObject({
      name: 'ValidationError',
      code: 'VALIDATION',
      transient: false,
    })
  })
  it('omits a non-string code and keeps at most 6 stack lines', () => {
    const e = Object.assign(new Error('deep'), { code: 42 })
    e.stack = ['Error: deep', ...Array.from({ length: 20 }, (_, i) => `    at f${i}`)].join('\n')
    const s = serialiseError(e)
    expect(s).not.toHaveProperty('code')
    expect(s.stack?.split('\n')).toHaveLength(6)
  })
  it('stores a transient error without retryAfterMs when it has none, and no stack', () => {
    const s = serialiseError(new TransientStepError('BUSY', 'later'))
    expect(s).toEqual({
      name: 'TransientStepError',
      message: 'BUSY: later',
      code: 'BUSY',
      transient: true,
    })
  })
  it('survives values JSON cannot express (BigInt, cycles)', () => {
    expect(serialiseError(10n).message).toBe('10')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(serialiseError(cyclic).message).toBe('[object Object]')
    expect(serialiseError(undefined).message).toBe('undefined')
  })
})

describe('error guards and messages', () => {
  it('the is() guards tell the workflow errors apart', () => {
    const all = [
      new TransientStepError('T', 'x'),
      new NonRetryableError('n'),
      pauseError(0, 'p'),
      new CancelledError(1),
      new WorkflowFailedError(1, 'e'),
    ]
    const guards = [
      TransientStepError.is,
      NonRetryableError.is,
      PausedError.is,
      CancelledError.is,
      WorkflowFailedError.is,
    ]
    guards.forEach((is, i) => {
      expect(all.map((e) => is(e))).toEqual(all.map((_, j) => j === i))
    })
    expect(TransientStepError.is({ code: 'TRANSIENT_STEP' })).toBe(false)
  })
  it('WorkflowFailedError shows a non-object stored error as JSON', () => {
    expect(new WorkflowFailedError(3, 'plain text').message).toBe('Run 3 failed: "plain text"')
    expect(new WorkflowFailedError(4, null).message).toBe('Run 4 failed: null')
  })
})
