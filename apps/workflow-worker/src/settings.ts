import { resolve } from 'node:path'
import { ConfigError, configFromEnv, type PgqrsConfig } from 'pgqrs'

/** Everything the app reads from the environment (packages never read it themselves). */
export interface Settings {
  /** `PGQRS_DSN`, required. */
  readonly dsn: string
  /** The other `PGQRS_*` variables (`PGQRS_LEASE_MS` decides how fast a crashed run comes back). */
  readonly config: PgqrsConfig
  /** `LOG_FILE`: the step log every step appends to, default `./workflow-steps.log`. */
  readonly logFile: string
  /** `STEP_MS`: how long each step's pretend work takes, default 1000 (time to crash it). */
  readonly stepMs: number
  /** `CRASH_AFTER_STEP`: SIGKILL this process right after it ran step N (1-4); unset: never. */
  readonly crashAfterStep: number | null
  /** `CONCURRENCY`: runs at once, default 4. */
  readonly concurrency: number
  /** `GRACE_MS`: how long SIGTERM waits for running steps, default 10 000. */
  readonly graceMs: number
}

function int(env: Record<string, string | undefined>, name: string): number | null {
  const raw = env[name]
  if (raw === undefined || raw === '') return null
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
    logFile: resolve(env.LOG_FILE || 'workflow-steps.log'),
    stepMs: int(env, 'STEP_MS') ?? 1_000,
    crashAfterStep: int(env, 'CRASH_AFTER_STEP'),
    concurrency: int(env, 'CONCURRENCY') ?? 4,
    graceMs: int(env, 'GRACE_MS') ?? 10_000,
  }
}
