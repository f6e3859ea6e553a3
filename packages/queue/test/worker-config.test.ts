import {
  BackoffStrategy,
  ConfigError,
  DEFAULT_BACKOFF,
  resolveConfig,
  ValidationError,
} from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import { resolveWorkerConfig, type WorkerOptions } from '../src/worker-config.js'

const storeConfig = resolveConfig({ logger: false })

function configError(options: unknown): ConfigError {
  try {
    resolveWorkerConfig(options as WorkerOptions, storeConfig)
  } catch (e) {
    expect(ConfigError.is(e), `expected ConfigError, got ${String(e)}`).toBe(true)
    return e as ConfigError
  }
  return expect.fail('expected a ConfigError')
}

describe('resolveWorkerConfig', () => {
  it('fills in the documented defaults from the store config', () => {
    const c = resolveWorkerConfig({}, storeConfig)
    expect(c).toEqual({
      name: undefined,
      concurrency: 1,
      batchSize: 1,
      prefetch: 0,
      leaseMs: 30_000,
      pollIntervalMs: 1_000,
      heartbeatIntervalMs: 5_000,
      staleAfterMs: 30_000,
      backoff: DEFAULT_BACKOFF,
      errorBackoffMs: 100,
      maxErrorBackoffMs: 30_000,
      graceMs: 10_000,
      signal: undefined,
      onSuccess: 'archive',
      timeoutMs: null,
      telemetry: true,
      scheduler: { pollIntervalMs: 1_000 },
    })
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('follows the store config and derives batchSize and staleAfterMs', () => {
    const store = resolveConfig({
      logger: false,
      leaseMs: 1_234,
      pollIntervalMs: 77,
      heartbeatIntervalMs: 10_000,
    })
    const c = resolveWorkerConfig({ concurrency: 8 }, store)
    expect(c).toMatchObject({
      concurrency: 8,
      batchSize: 8,
      leaseMs: 1_234,
      pollIntervalMs: 77,
      heartbeatIntervalMs: 10_000,
    })
    // 6 heartbeats when that is more than 30 s.
    expect(c.staleAfterMs).toBe(60_000)
    expect(resolveWorkerConfig({ heartbeatIntervalMs: 100 }, storeConfig).staleAfterMs).toBe(30_000)
  })

  it('keeps explicit options', () => {
    const signal = new AbortController().signal
    const backoff = BackoffStrategy.fixed(400)
    const c = resolveWorkerConfig(
      {
        name: 'w-1',
        concurrency: 4,
        batchSize: 16,
        prefetch: 32,
        leaseMs: 300,
        pollIntervalMs: 5,
        heartbeatIntervalMs: 100,
        staleAfterMs: 900,
        backoff,
        errorBackoffMs: 10,
        maxErrorBackoffMs: 20,
        graceMs: 0,
        signal,
      },
      storeConfig,
    )
    expect(c).toMatchObject({
      name: 'w-1',
      concurrency: 4,
      batchSize: 16,
      prefetch: 32,
      leaseMs: 300,
      staleAfterMs: 900,
      graceMs: 0,
    })
    expect(c.backoff).toEqual(backoff)
    expect(c.signal).toBe(signal)
  })

  it.each([
    ['concurrency', 0],
    ['concurrency', 1.5],
    ['concurrency', 10_001],
    ['concurrency', '8'],
    ['batchSize', 0],
    ['batchSize', 1001],
    ['prefetch', -1],
    ['prefetch', 10_001],
    ['leaseMs', 0],
    ['leaseMs', 99],
    ['leaseMs', Number.NaN],
    ['pollIntervalMs', 0],
    ['heartbeatIntervalMs', 9],
    ['staleAfterMs', 0],
    ['errorBackoffMs', 0],
    ['maxErrorBackoffMs', -1],
    ['graceMs', -1],
    ['graceMs', Number.POSITIVE_INFINITY],
  ])('%s = %s → ConfigError naming the option and the allowed range', (field, value) => {
    const e = configError({ [field]: value })
    expect(e.field).toBe(field)
    expect(e.code).toBe('CONFIG')
    expect(e.message).toContain(field)
    expect(e.message).toMatch(/use an integer from \d+ to \d+/)
  })

  it('refuses options that are not an object, a bad backoff and a non-AbortSignal signal', () => {
    expect(configError(null).field).toBe('options')
    expect(configError('fast').field).toBe('options')
    expect(configError({ backoff: { kind: 'linear' } }).message).toContain('Unknown backoff kind')
    expect(configError({ backoff: { kind: 'fixed', delayMs: -1 } }).field).toBe('delayMs')
    expect(configError({ signal: { aborted: false } }).field).toBe('signal')
  })

  it('refuses an invalid worker name with a ValidationError', () => {
    for (const name of ['', '   ', 'x'.repeat(256)]) {
      let error: unknown
      try {
        resolveWorkerConfig({ name }, storeConfig)
      } catch (e) {
        error = e
      }
      expect(ValidationError.is(error)).toBe(true)
      expect((error as ValidationError).message).toContain('worker name')
    }
  })
})
