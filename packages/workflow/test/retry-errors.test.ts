import { BackoffStrategy, ConfigError, PgqrsError, ValidationError } from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import {
  CancelledError,
  DEFAULT_STEP_RETRY,
  defineWorkflow,
  NonRetryableError,
  PausedError,
  pauseError,
  resolveRetry,
  retryDelay,
  serialiseError,
  TransientStepError,
  WorkflowFailedError,
} from '../src/index.js'

describe('step retry policy', () => {
  it('defaults to 4 attempts (3 retries), exponential with jitter from 1 s capped at 60 s', () => {
    expect(DEFAULT_STEP_RETRY.maxAttempts).toBe(4)
    expect(DEFAULT_STEP_RETRY.backoff).toEqual({
      kind: 'exponentialJitter',
      baseMs: 1_000,
      maxMs: 60_000,
    })
  })
  it('fills a partial policy from the base and validates maxAttempts', () => {
    expect(resolveRetry({ maxAttempts: 5 }).backoff).toEqual(DEFAULT_STEP_RETRY.backoff)
    expect(resolveRetry({ backoff: BackoffStrategy.fixed(10) }).maxAttempts).toBe(4)
    // maxAttempts counts executions, as a message's does: 0 would mean "never run"
    for (const bad of [0, -1, 1.5, 10_001, Number.NaN]) {
      expect(() => resolveRetry({ maxAttempts: bad })).toThrow(ConfigError)
    }
  })
  it('prefers the error retryAfterMs over the backoff', () => {
    const p = resolveRetry({ backoff: BackoffStrategy.fixed(5_000) })
    expect(retryDelay(p, 0, 500)).toBe(500)
    expect(retryDelay(p, 2)).toBe(5_000)
    expect(retryDelay(resolveRetry({ backoff: BackoffStrategy.exponential(100, 1_000) }), 3)).toBe(
      800,
    )
  })
})

describe('workflow errors', () => {
  it('TransientStepError keeps code and retryAfterMs, and is a PgqrsError', () => {
    const e = new TransientStepError('TIMEOUT', 'upstream slow', { retryAfterMs: 500 })
    expect(e.message).toBe('TIMEOUT: upstream slow')
    expect(e.retryAfterMs).toBe(500)
    expect(TransientStepError.is(e) && PgqrsError.is(e)).toBe(true)
    expect(NonRetryableError.is(e)).toBe(false)
  })
  it('pauseError builds a PausedError and refuses a negative or fractional duration', () => {
    const e = pauseError(60_000, 'waiting for approval')
    expect(PausedError.is(e)).toBe(true)
    expect(e.resumeAfterMs).toBe(60_000)
    expect(() => pauseError(-1, 'x')).toThrow(ValidationError)
    expect(() => pauseError(1.5, 'x')).toThrow(ValidationError)
    expect(() => pauseError(2 ** 53 - 1, 'x')).toThrow(/ms/)
  })
  it('serialiseError stores transient errors with their code and other values as messages', () => {
    expect(serialiseError(new TransientStepError('T', 'm', { retryAfterMs: 3 }))).toEqual({
      name: 'TransientStepError',
      message: 'T: m',
      code: 'T',
      transient: true,
      retryAfterMs: 3,
    })
    const plain = serialiseError(new TypeError('bad'))
    expect(plain).toMatchObject({ name: 'TypeError', message: 'bad', transient: false })
    expect(serialiseError('text')).toEqual({ name: 'Error', message: 'text', transient: false })
    expect(serialiseError({ a: 1 })).toEqual({
      name: 'Error',
      message: '{"a":1}',
      transient: false,
    })
  })
  it('WorkflowFailedError and CancelledError carry the run id', () => {
    const f = new WorkflowFailedError(7, { message: 'boom' })
    expect(f.message).toBe('Run 7 failed: boom')
    expect(WorkflowFailedError.is(f)).toBe(true)
    expect(new CancelledError(3).runId).toBe(3)
  })
})

describe('defineWorkflow', () => {
  it('validates the name and the run function', () => {
    expect(() => defineWorkflow({ name: 'bad name', run: async () => 1 })).toThrow(
      /Invalid workflow name/,
    )
    expect(() => defineWorkflow({ name: 'ok', run: undefined as never })).toThrow(ConfigError)
  })
  it('keeps the name and resolves the retry policy', () => {
    const d = defineWorkflow({ name: 'w1', retry: { maxAttempts: 5 }, run: async () => 1 })
    expect(d.name).toBe('w1')
    expect(d.retry.maxAttempts).toBe(5)
    expect(Object.isFrozen(d)).toBe(true)
  })
})
