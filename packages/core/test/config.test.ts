import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  configFromEnv,
  consoleLogger,
  DEFAULT_CONFIG,
  DEFAULT_VALIDATION,
  type Logger,
  type PgqrsConfig,
  resolveConfig,
  SCHEMA_NAME_PATTERN,
  silentLogger,
} from '../src/index.js'

/** Runs `fn` and returns the ConfigError it throws (fails the test for anything else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError, nothing was thrown')
}

describe('resolveConfig', () => {
  it('fills in every documented default', () => {
    const c = resolveConfig()
    expect(c).toMatchObject({
      schema: 'pgqrs',
      maxConnections: 10,
      connectTimeoutMs: 10_000,
      leaseMs: 30_000,
      maxAttempts: 5,
      pollIntervalMs: 1_000,
      heartbeatIntervalMs: 5_000,
    })
    expect(c).toMatchObject(DEFAULT_CONFIG)
    expect(c.validation).toEqual({
      maxPayloadBytes: 1024 * 1024,
      maxDepth: 32,
      forbiddenKeys: ['__proto__', 'constructor', 'prototype'],
    })
    expect(c.logger).toBe(consoleLogger)
    expect(resolveConfig({})).toEqual(c)
  })

  it('returns a frozen result, including the validation settings', () => {
    const c = resolveConfig({ validation: { maxDepth: 4 } })
    expect(Object.isFrozen(c)).toBe(true)
    expect(Object.isFrozen(c.validation)).toBe(true)
    expect(() => {
      ;(c as { leaseMs: number }).leaseMs = 1
    }).toThrow(TypeError)
    expect(c.leaseMs).toBe(30_000)
    const v = c.validation as unknown as { forbiddenKeys: string[] }
    expect(() => v.forbiddenKeys.push('x')).toThrow(TypeError)
  })

  it('does not keep a reference to the caller’s forbiddenKeys array', () => {
    const keys = ['secret']
    const c = resolveConfig({ validation: { forbiddenKeys: keys } })
    keys.push('other')
    expect(c.validation).toMatchObject({ forbiddenKeys: ['secret'] })
  })

  it('keeps given values and merges partial validation settings with the defaults', () => {
    const c = resolveConfig({
      schema: 'jobs',
      maxConnections: 20,
      leaseMs: 200,
      validation: { maxPayloadBytes: 10 },
    })
    expect(c.schema).toBe('jobs')
    expect(c.maxConnections).toBe(20)
    expect(c.leaseMs).toBe(200)
    expect(c.validation).toEqual({ ...DEFAULT_VALIDATION, maxPayloadBytes: 10 })
  })

  it('accepts validation: false and logger: false', () => {
    const c = resolveConfig({ validation: false, logger: false })
    expect(c.validation).toBe(false)
    expect(c.logger).toBe(silentLogger)
  })

  it('keeps a custom logger', () => {
    const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
    expect(resolveConfig({ logger }).logger).toBe(logger)
  })

  const INVALID: [field: string, config: Record<string, unknown>][] = [
    ['maxConnections', { maxConnections: 0 }],
    ['maxConnections', { maxConnections: 1001 }],
    ['maxConnections', { maxConnections: '10' }],
    ['connectTimeoutMs', { connectTimeoutMs: -1 }],
    ['connectTimeoutMs', { connectTimeoutMs: Number.POSITIVE_INFINITY }],
    ['leaseMs', { leaseMs: 0 }],
    ['leaseMs', { leaseMs: 1.5 }],
    ['leaseMs', { leaseMs: Number.NaN }],
    ['maxAttempts', { maxAttempts: 0 }],
    ['maxAttempts', { maxAttempts: 1_000_001 }],
    ['pollIntervalMs', { pollIntervalMs: -5 }],
    ['heartbeatIntervalMs', { heartbeatIntervalMs: 0 }],
    ['schema', { schema: '' }],
    ['schema', { schema: 42 }],
    ['validation', { validation: 'strict' }],
    ['validation', { validation: null }],
    ['validation.maxPayloadBytes', { validation: { maxPayloadBytes: 0 } }],
    ['validation.maxDepth', { validation: { maxDepth: 1001 } }],
    ['validation.maxDepth', { validation: { maxDepth: 2.5 } }],
    ['validation.forbiddenKeys', { validation: { forbiddenKeys: [1] } }],
    ['validation.forbiddenKeys', { validation: { forbiddenKeys: 'constructor' } }],
    ['logger', { logger: {} }],
    ['logger', { logger: 'console' }],
  ]

  it.each(INVALID)('refuses a bad %s with a ConfigError naming it (%j)', (field, config) => {
    const err = configError(() => resolveConfig(config as PgqrsConfig))
    expect(err.code).toBe('CONFIG')
    expect(err.field).toBe(field)
    expect(err.message).toContain(field)
  })

  it('says which range an integer must be in', () => {
    expect(configError(() => resolveConfig({ maxConnections: 0 })).message).toMatch(/1 to 1000/)
  })

  it('refuses an unknown key (a typo) and lists the known options', () => {
    const err = configError(() => resolveConfig({ leasMs: 100 } as PgqrsConfig))
    expect(err.field).toBe('leasMs')
    expect(err.message).toContain('"leasMs"')
    for (const known of ['schema', 'leaseMs', 'maxAttempts', 'validation', 'logger']) {
      expect(err.message).toContain(known)
    }
  })

  it('accepts extra keys a store declares', () => {
    expect(() => resolveConfig({ pool: {} } as PgqrsConfig, ['pool'])).not.toThrow()
    expect(() => resolveConfig({ pool: {} } as PgqrsConfig)).toThrow(ConfigError)
  })

  it('refuses a config that is not an object', () => {
    expect(configError(() => resolveConfig(null as unknown as PgqrsConfig)).field).toBe('config')
    expect(configError(() => resolveConfig('pgqrs' as unknown as PgqrsConfig)).field).toBe('config')
  })

  it.each(['pgqrs', 'jobs', '_private', 'a$1', 'Jobs_2026', 'x'.repeat(63)])(
    'accepts the schema name %s',
    (schema) => {
      expect(SCHEMA_NAME_PATTERN.test(schema)).toBe(true)
      expect(resolveConfig({ schema }).schema).toBe(schema)
    },
  )

  it.each(['1jobs', '$jobs', 'my-jobs', 'my jobs', 'jobs;drop', 'pgqrs"', 'x'.repeat(64), 'é'])(
    'refuses the schema name %s',
    (schema) => {
      const err = configError(() => resolveConfig({ schema }))
      expect(err.field).toBe('schema')
      expect(err.message).toContain(JSON.stringify(schema))
    },
  )
})

describe('configFromEnv', () => {
  const FULL = {
    PGQRS_DSN: 'postgres://u@h/db',
    PGQRS_SCHEMA: 'jobs',
    PGQRS_MAX_CONNECTIONS: '20',
    PGQRS_CONNECT_TIMEOUT_MS: '2500',
    PGQRS_LEASE_MS: '60000',
    PGQRS_MAX_ATTEMPTS: '3',
    PGQRS_POLL_INTERVAL_MS: '250',
    PGQRS_HEARTBEAT_INTERVAL_MS: '7000',
  }

  it('maps every PGQRS_* variable', () => {
    expect(configFromEnv(FULL)).toEqual({
      dsn: 'postgres://u@h/db',
      config: {
        schema: 'jobs',
        maxConnections: 20,
        connectTimeoutMs: 2500,
        leaseMs: 60_000,
        maxAttempts: 3,
        pollIntervalMs: 250,
        heartbeatIntervalMs: 7000,
      },
    })
  })

  it('leaves unset and empty variables out, and ignores unrelated ones', () => {
    expect(configFromEnv({})).toEqual({ dsn: undefined, config: {} })
    expect(
      configFromEnv({
        PGQRS_DSN: '',
        PGQRS_SCHEMA: '',
        PGQRS_LEASE_MS: '',
        PATH: '/bin',
        LEASE_MS: 'x',
      }),
    ).toEqual({ dsn: undefined, config: {} })
  })

  it('trims white space around numbers', () => {
    expect(configFromEnv({ PGQRS_LEASE_MS: ' 500 ' }).config).toEqual({ leaseMs: 500 })
  })

  it('produces a config that resolveConfig accepts', () => {
    const { config } = configFromEnv(FULL)
    expect(resolveConfig(config).leaseMs).toBe(60_000)
  })

  it.each([
    ['PGQRS_MAX_CONNECTIONS', 'ten', 'maxConnections'],
    ['PGQRS_CONNECT_TIMEOUT_MS', '2.5', 'connectTimeoutMs'],
    ['PGQRS_LEASE_MS', '-100', 'leaseMs'],
    ['PGQRS_MAX_ATTEMPTS', '3x', 'maxAttempts'],
    ['PGQRS_POLL_INTERVAL_MS', '1e3', 'pollIntervalMs'],
    ['PGQRS_HEARTBEAT_INTERVAL_MS', '0x10', 'heartbeatIntervalMs'],
  ])('a malformed %s=%s throws a ConfigError naming the variable', (name, raw, field) => {
    const err = configError(() => configFromEnv({ [name]: raw }))
    expect(err.message).toContain(name)
    expect(err.message).toContain(JSON.stringify(raw))
    expect(err.field).toBe(field)
  })

  it('reads process.env by default', () => {
    const before = process.env.PGQRS_MAX_ATTEMPTS
    process.env.PGQRS_MAX_ATTEMPTS = '9'
    try {
      expect(configFromEnv().config.maxAttempts).toBe(9)
    } finally {
      if (before === undefined) delete process.env.PGQRS_MAX_ATTEMPTS
      else process.env.PGQRS_MAX_ATTEMPTS = before
    }
  })

  // An out-of-range value is refused by resolveConfig(); configFromEnv names the variable the
  // user set (PGQRS_LEASE_MS), not the config field it maps to (leaseMs).
  it.each([
    ['PGQRS_LEASE_MS', '0'],
    ['PGQRS_MAX_CONNECTIONS', '5000'],
    ['PGQRS_CONNECT_TIMEOUT_MS', '99999999999999999999'],
    ['PGQRS_SCHEMA', '1-bad'],
  ])('an out-of-range %s=%s also throws a ConfigError naming the variable', (name, raw) => {
    const err = configError(() => configFromEnv({ [name]: raw }))
    expect(err.message).toContain(name)
  })
})

describe('timer-backed options', () => {
  it.each([
    'connectTimeoutMs',
    'statementTimeoutMs',
    'leaseMs',
    'pollIntervalMs',
    'heartbeatIntervalMs',
  ])('%s above 2^31 - 1 ms (what Node timers take) is a ConfigError naming the range', (field) => {
    const err = configError(() => resolveConfig({ [field]: 3e9 }))
    expect(err.field).toBe(field)
    expect(err.message).toContain('2147483647')
    expect(resolveConfig({ [field]: 2_147_483_647 })).toMatchObject({ [field]: 2_147_483_647 })
  })
})
