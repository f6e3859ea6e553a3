import { ConfigError, configFromEnv, type PgqrsConfig } from 'pgqrs'

/** Everything the service reads from the environment (packages never read it themselves). */
export interface Settings {
  /** `PGQRS_DSN`, required. */
  readonly dsn: string
  /** The other `PGQRS_*` variables. */
  readonly config: PgqrsConfig
  /** `HOST`, default 127.0.0.1. */
  readonly host: string
  /** `PORT`, default 3000; 0 picks a free port (printed at start). */
  readonly port: number
  /** `QUEUE`, default `jobs`. */
  readonly queue: string
  /** `CONCURRENCY`: jobs the in-process worker runs at once, default 4. */
  readonly concurrency: number
  /** `GRACE_MS`: how long SIGTERM waits for running jobs, default 10 000. */
  readonly graceMs: number
  /**
   * `API_TOKENS`: `caller:token` pairs, comma separated (`alice:s3cret,bob:t0ken`); requests
   * authenticate with `Authorization: Bearer <token>`. Required: the example serves no anonymous
   * caller.
   */
  readonly tokens: ReadonlyMap<string, string>
}

/** `caller:token,…` → token → caller; `ConfigError` naming API_TOKENS when malformed or empty. */
function tokens(raw: string | undefined): Map<string, string> {
  const map = new Map<string, string>()
  for (const pair of (raw ?? '').split(',').filter((p) => p.trim() !== '')) {
    const m = /^\s*([A-Za-z0-9_.-]{1,64}):(\S{8,256})\s*$/.exec(pair)
    if (!m) {
      throw new ConfigError(
        'API_TOKENS',
        'API_TOKENS: use caller:token pairs, comma separated (callers [A-Za-z0-9_.-], tokens of 8+ characters)',
      )
    }
    map.set(m[2]!, m[1]!)
  }
  if (map.size === 0)
    throw new ConfigError('API_TOKENS', 'Set API_TOKENS, e.g. API_TOKENS=alice:s3cret-token')
  return map
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
    host: env.HOST || '127.0.0.1',
    port: int(env, 'PORT', 3000),
    queue: env.QUEUE || 'jobs',
    concurrency: int(env, 'CONCURRENCY', 4),
    graceMs: int(env, 'GRACE_MS', 10_000),
    tokens: tokens(env.API_TOKENS),
  }
}
