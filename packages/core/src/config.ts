import { ConfigError } from './errors.js'
import { consoleLogger, type Logger, silentLogger } from './logger.js'

/** Payload validation settings (SPEC section 9). */
export interface ValidationConfig {
  /** Largest serialised payload in bytes (UTF-8). Default 1 MiB. */
  readonly maxPayloadBytes?: number
  /** Deepest nesting of objects and arrays; the root is depth 0. Default 32. */
  readonly maxDepth?: number
  /** Keys refused at every level. Default `__proto__`, `constructor`, `prototype`. */
  readonly forbiddenKeys?: readonly string[]
}

/** Options shared by every store and entry point. Every field is optional and has a default. */
export interface PgqrsConfig {
  /** Postgres schema of the pgqrs tables; created by install. Default `pgqrs`. Ignored by the sqlite family. */
  readonly schema?: string
  /** Largest connection pool the store opens itself. Default 10. */
  readonly maxConnections?: number
  /** How long to wait for a connection before `ConnectionError`. Default 10 000 ms. */
  readonly connectTimeoutMs?: number
  /**
   * Postgres: the longest a statement on the store's own pool may run or wait for an answer. The
   * server cancels it (`statement_timeout`), and a connection that stops answering (a half-open
   * TCP connection) is closed after it, so a claim or `stop()` never hangs on a dead link.
   * Default 60 000 ms.
   */
  readonly statementTimeoutMs?: number
  /** Default lease of a dequeued message. Default 30 000 ms. */
  readonly leaseMs?: number
  /** Default deliveries before a message is dead. Default 5. */
  readonly maxAttempts?: number
  /** How long an idle worker waits before polling again (unless woken). Default 1 000 ms. */
  readonly pollIntervalMs?: number
  /** How often workers record a heartbeat. Default 5 000 ms. */
  readonly heartbeatIntervalMs?: number
  /** Payload validation settings, or `false` to skip payload checks (names are always checked). */
  readonly validation?: ValidationConfig | false
  /** Where pgqrs logs; `false` silences it. Default: warn and error to the console. */
  readonly logger?: Logger | false
}

/** A {@link PgqrsConfig} with every default filled in; frozen. */
export interface ResolvedConfig {
  readonly schema: string
  readonly maxConnections: number
  readonly connectTimeoutMs: number
  readonly statementTimeoutMs: number
  readonly leaseMs: number
  readonly maxAttempts: number
  readonly pollIntervalMs: number
  readonly heartbeatIntervalMs: number
  readonly validation: Required<ValidationConfig> | false
  readonly logger: Logger
}

/** Defaults of {@link PgqrsConfig}. */
export const DEFAULT_CONFIG = Object.freeze({
  schema: 'pgqrs',
  maxConnections: 10,
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 60_000,
  leaseMs: 30_000,
  maxAttempts: 5,
  pollIntervalMs: 1_000,
  heartbeatIntervalMs: 5_000,
})

/** Defaults of {@link ValidationConfig}. */
export const DEFAULT_VALIDATION: Required<ValidationConfig> = Object.freeze({
  maxPayloadBytes: 1024 * 1024,
  maxDepth: 32,
  forbiddenKeys: Object.freeze(['__proto__', 'constructor', 'prototype']),
})

/** The longest delay Node's timers take (2^31 - 1 ms, about 24.8 days): every timer-backed option stays below it. */
export const MAX_TIMER_MS = 2_147_483_647

/** Postgres schema names pgqrs accepts (an unquoted-style identifier of at most 63 bytes). */
export const SCHEMA_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/

function positiveInt(field: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(
      field,
      `Invalid config ${field}: ${String(value)}; use an integer from 1 to ${max}`,
    )
  }
  return value
}

function resolveValidation(v: PgqrsConfig['validation']): Required<ValidationConfig> | false {
  if (v === false) return false
  if (v === undefined) return DEFAULT_VALIDATION
  if (typeof v !== 'object' || v === null) {
    throw new ConfigError('validation', 'Invalid config validation: use an object or false')
  }
  const keys = v.forbiddenKeys ?? DEFAULT_VALIDATION.forbiddenKeys
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) {
    throw new ConfigError('validation.forbiddenKeys', 'validation.forbiddenKeys must be strings')
  }
  return Object.freeze({
    maxPayloadBytes: positiveInt(
      'validation.maxPayloadBytes',
      v.maxPayloadBytes ?? DEFAULT_VALIDATION.maxPayloadBytes,
    ),
    maxDepth: positiveInt('validation.maxDepth', v.maxDepth ?? DEFAULT_VALIDATION.maxDepth, 1000),
    forbiddenKeys: Object.freeze([...keys]),
  })
}

const KNOWN_KEYS = new Set([
  'schema',
  'maxConnections',
  'connectTimeoutMs',
  'statementTimeoutMs',
  'leaseMs',
  'maxAttempts',
  'pollIntervalMs',
  'heartbeatIntervalMs',
  'validation',
  'logger',
])

/**
 * Validates `config` once, fills in {@link DEFAULT_CONFIG} and freezes the result. Throws
 * `ConfigError` naming the field. Unknown keys are refused (a typo would otherwise be ignored).
 */
export function resolveConfig(
  config: PgqrsConfig = {},
  extraKeys: readonly string[] = [],
): ResolvedConfig {
  if (typeof config !== 'object' || config === null) {
    throw new ConfigError('config', 'config must be an object')
  }
  for (const key of Object.keys(config)) {
    if (!KNOWN_KEYS.has(key) && !extraKeys.includes(key)) {
      throw new ConfigError(
        key,
        `Unknown config option "${key}"; known options: ${[...KNOWN_KEYS, ...extraKeys].join(', ')}`,
      )
    }
  }
  const schema = config.schema ?? DEFAULT_CONFIG.schema
  if (typeof schema !== 'string' || !SCHEMA_NAME_PATTERN.test(schema)) {
    throw new ConfigError(
      'schema',
      `Invalid schema ${JSON.stringify(schema)}: use 1-63 characters from [A-Za-z0-9_$], not starting with a digit or $`,
    )
  }
  const logger =
    config.logger === false
      ? silentLogger
      : config.logger === undefined
        ? consoleLogger
        : config.logger
  if (typeof logger !== 'object' || typeof logger.warn !== 'function') {
    throw new ConfigError(
      'logger',
      'logger must have debug, info, warn and error methods, or be false',
    )
  }
  return Object.freeze({
    schema,
    maxConnections: positiveInt(
      'maxConnections',
      config.maxConnections ?? DEFAULT_CONFIG.maxConnections,
      1000,
    ),
    connectTimeoutMs: positiveInt(
      'connectTimeoutMs',
      config.connectTimeoutMs ?? DEFAULT_CONFIG.connectTimeoutMs,
      MAX_TIMER_MS,
    ),
    statementTimeoutMs: positiveInt(
      'statementTimeoutMs',
      config.statementTimeoutMs ?? DEFAULT_CONFIG.statementTimeoutMs,
      MAX_TIMER_MS,
    ),
    leaseMs: positiveInt('leaseMs', config.leaseMs ?? DEFAULT_CONFIG.leaseMs, MAX_TIMER_MS),
    maxAttempts: positiveInt(
      'maxAttempts',
      config.maxAttempts ?? DEFAULT_CONFIG.maxAttempts,
      1_000_000,
    ),
    pollIntervalMs: positiveInt(
      'pollIntervalMs',
      config.pollIntervalMs ?? DEFAULT_CONFIG.pollIntervalMs,
      MAX_TIMER_MS,
    ),
    heartbeatIntervalMs: positiveInt(
      'heartbeatIntervalMs',
      config.heartbeatIntervalMs ?? DEFAULT_CONFIG.heartbeatIntervalMs,
      MAX_TIMER_MS,
    ),
    validation: resolveValidation(config.validation),
    logger,
  })
}

const ENV_INTS = {
  PGQRS_MAX_CONNECTIONS: 'maxConnections',
  PGQRS_CONNECT_TIMEOUT_MS: 'connectTimeoutMs',
  PGQRS_STATEMENT_TIMEOUT_MS: 'statementTimeoutMs',
  PGQRS_LEASE_MS: 'leaseMs',
  PGQRS_MAX_ATTEMPTS: 'maxAttempts',
  PGQRS_POLL_INTERVAL_MS: 'pollIntervalMs',
  PGQRS_HEARTBEAT_INTERVAL_MS: 'heartbeatIntervalMs',
} as const

/**
 * Maps `PGQRS_*` environment variables to a DSN and a config, for apps and the CLI (packages never
 * read the environment themselves): `PGQRS_DSN`, `PGQRS_SCHEMA`, `PGQRS_MAX_CONNECTIONS`,
 * `PGQRS_CONNECT_TIMEOUT_MS`, `PGQRS_STATEMENT_TIMEOUT_MS`, `PGQRS_LEASE_MS`, `PGQRS_MAX_ATTEMPTS`, `PGQRS_POLL_INTERVAL_MS`,
 * `PGQRS_HEARTBEAT_INTERVAL_MS`. A malformed number throws `ConfigError` naming the variable.
 */
export function configFromEnv(env: Record<string, string | undefined> = process.env): {
  dsn: string | undefined
  config: PgqrsConfig
} {
  const config: Record<string, unknown> = {}
  if (env.PGQRS_SCHEMA) config.schema = env.PGQRS_SCHEMA
  for (const [name, field] of Object.entries(ENV_INTS)) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    if (!/^\d+$/.test(raw.trim())) {
      throw new ConfigError(field, `Invalid ${name}=${JSON.stringify(raw)}: use a positive integer`)
    }
    config[field] = Number(raw.trim())
  }
  try {
    resolveConfig(config)
  } catch (e) {
    // Name the variable the user set, not the config field it maps to.
    if (ConfigError.is(e)) {
      const name =
        e.field === 'schema'
          ? 'PGQRS_SCHEMA'
          : Object.entries(ENV_INTS).find(([, f]) => f === e.field)?.[0]
      if (name)
        throw new ConfigError(
          e.field,
          `Invalid ${name}=${JSON.stringify(env[name])}: ${e.message}`,
          { cause: e },
        )
    }
    throw e
  }
  return { dsn: env.PGQRS_DSN || undefined, config }
}
