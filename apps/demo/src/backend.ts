import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configFromEnv, connect, type PgqrsConfig, parseDsn, type Store } from 'pgqrs'

/** Where the demo keeps its state, and how to remove it afterwards. */
export interface DemoBackend {
  /** Printed in the banner. */
  readonly label: string
  /** What a child process passes to `connect()`. */
  readonly dsn: string
  readonly config: PgqrsConfig
  /** A scratch folder (the SQLite file and the step-execution log live here). */
  readonly dir: string
  readonly store: Store
  /** Closes the store and removes what the demo created (the temp folder; the Postgres schema). */
  cleanup(): Promise<void>
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`. */
function redact(dsn: string): string {
  try {
    const url = new URL(dsn)
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return dsn
  }
}

/**
 * Opens the demo's store: an embedded SQLite file in a fresh temp folder, or, with `PGQRS_DSN` set,
 * that database. On Postgres the demo works in a schema of its own (`pgqrs_demo_<random>`), dropped
 * at the end.
 */
export async function openDemoBackend(
  env: Record<string, string | undefined>,
): Promise<DemoBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'pgqrs-demo-'))
  const fromEnv = configFromEnv(env)
  const dsn = fromEnv.dsn ?? `sqlite://${join(dir, 'demo.db')}`
  const backend = parseDsn(dsn).backend
  const config: PgqrsConfig =
    backend === 'postgres'
      ? { ...fromEnv.config, schema: `pgqrs_demo_${randomBytes(4).toString('hex')}` }
      : fromEnv.config
  let store: Store
  try {
    store = await connect(dsn, config)
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
  const label =
    backend === 'postgres'
      ? `PostgreSQL ${redact(dsn)}, schema ${config.schema} (dropped at the end)`
      : fromEnv.dsn
        ? `${backend} ${dsn}`
        : `embedded SQLite file ${join(dir, 'demo.db')} (no server)`
  let cleaned = false
  return {
    label,
    dsn,
    config,
    dir,
    store,
    async cleanup() {
      if (cleaned) return
      cleaned = true
      try {
        if (backend === 'postgres') {
          const pool = (store as unknown as { pool: { query(sql: string): Promise<unknown> } }).pool
          await pool.query(`drop schema if exists "${config.schema}" cascade`)
        }
      } finally {
        await store.close()
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
