import { ConfigError, configFromEnv, type PgqrsConfig } from 'pgqrs'

/** Everything the app reads from the environment (and only the app: packages never read it). */
export interface Settings {
  /** `PGQRS_DSN`, required: `postgres://…`, `sqlite:///…`, `turso:///…`. */
  readonly dsn: string
  /** The other `PGQRS_*` variables (`PGQRS_SCHEMA`, `PGQRS_LEASE_MS`, `PGQRS_POLL_INTERVAL_MS`, …). */
  readonly config: PgqrsConfig
  /** `QUEUE`, default `tasks`. */
  readonly queue: string
  /** `CONCURRENCY`: handlers at once, default 4. */
  readonly concurrency: number
  /** `GRACE_MS`: how long SIGTERM waits for running handlers, default 10 000. */
  readonly graceMs: number
  /** `WORKER_NAME`: the registry name, default generated from host and pid. */
  readonly name: string | undefined
}

function int(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `${name}=${raw}: use a whole number`)
  return Number(raw)
}

/** Reads the settings; throws `ConfigError` naming the variable that is missing or wrong. */
export function loadSettings(env: Record<string, string | undefined>): Settings {
  const { dsn, config } = configFromEnv(env)
  if (!dsn) {
    throw new ConfigError('PGQRS_DSN', 'Set PGQRS_DSN, e.g. PGQRS_DSN=sqlite:///tmp/pgqrs.db')
  }
  return {
    dsn,
    config,
    queue: env.QUEUE || 'tasks',
    concurrency: int(env, 'CONCURRENCY', 4),
    graceMs: int(env, 'GRACE_MS', 10_000),
    name: env.WORKER_NAME || undefined,
  }
}
