/**
 * A database under test: a fresh Postgres schema (in the run's database) or a fresh SQLite/Turso
 * file. The suite enqueues through a pgqrs store and inspects the tables with plain SQL.
 */
import fs from 'node:fs'
import path from 'node:path'
import { connect, type PgqrsConfig, type Store } from '@pgqrs/core'
import Database from 'better-sqlite3'
import pg from 'pg'

export type Backend = 'postgres' | 'sqlite' | 'turso'

export interface ActiveRow {
  readonly id: number
  readonly lease: string | null
  readonly visibleAtMs: number
  readonly queue: string
}
export interface ArchiveRow {
  readonly id: number
  readonly lease: string | null
  readonly archived: boolean
  readonly dead: boolean
  readonly attempts: number
  readonly queue: string
  readonly lastError: string | null
  readonly payload: unknown
}
export interface RunRow {
  readonly id: number
  readonly messageId: number
  readonly status: string
  readonly output: any
  readonly error: any
}
export interface StepRow {
  readonly runId: number
  readonly stepKey: string
  readonly status: string
  readonly output: any
}
export interface TxRow {
  readonly runId: number
  readonly lease: string | null
  readonly pid: number
}
export interface Snapshot {
  readonly active: ActiveRow[]
  readonly archive: ArchiveRow[]
  readonly runs: RunRow[]
  readonly steps: StepRow[]
  readonly tx: TxRow[]
}

export interface Target {
  readonly backend: Backend
  /** DSN for `connect()` in children. */
  readonly dsn: string
  /** Config for `connect()` (the schema on Postgres). */
  readonly config: PgqrsConfig
  /** Postgres schema, or null. */
  readonly schema: string | null
  /** A store of the suite's own (for enqueueing). */
  readonly store: Store
  /** Installs pgqrs and the suite's own table `chaos_tx`. */
  install(): Promise<void>
  /** Active messages and unfinished runs. */
  progress(): Promise<{ active: number; unfinishedRuns: number }>
  snapshot(): Promise<Snapshot>
  /** Runs raw SQL (inspection). */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>
  close(): Promise<void>
}

const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v)

/** A Postgres schema `schema` in the database at `url`. */
export async function postgresTarget(
  url: string,
  schema: string,
  config: PgqrsConfig = {},
): Promise<Target> {
  const admin = new pg.Pool({ connectionString: url, max: 2 })
  admin.on('error', () => {})
  const s = `"${schema}"`
  const store = await connect(url, { maxConnections: 4, ...config, schema, logger: false })
  const query = async <T>(text: string, params: unknown[] = []) =>
    (await admin.query(text, params)).rows as T[]
  return {
    backend: 'postgres',
    dsn: url,
    config: { ...config, schema },
    schema,
    store,
    query,
    async install() {
      await store.migrate()
      await admin.query(`create table if not exists ${s}.chaos_tx (
        id bigserial primary key, run_id bigint not null, step text not null, pid int not null, lease text)`)
    },
    async progress() {
      const [r] = await query<{ active: string; unfinished: string }>(
        `select (select count(*) from ${s}.pgqrs_messages) as active,
          (select count(*) from ${s}.pgqrs_runs where status not in ('SUCCESS','ERROR','CANCELLED')) as unfinished`,
      )
      return { active: Number(r!.active), unfinishedRuns: Number(r!.unfinished) }
    },
    async snapshot() {
      const active = await query<any>(
        `select m.id, m.lease::text as lease, extract(epoch from m.visible_at) * 1000 as visible_ms, q.name as queue
         from ${s}.pgqrs_messages m join ${s}.pgqrs_queues q on q.id = m.queue_id`,
      )
      const archive = await query<any>(
        `select a.id, a.lease::text as lease, a.archived_at is not null as archived, a.dead_at is not null as dead,
           a.attempts, q.name as queue, a.last_error, a.payload
         from ${s}.pgqrs_archive a join ${s}.pgqrs_queues q on q.id = a.queue_id`,
      )
      const runs = await query<any>(
        `select id, message_id, status, output, error from ${s}.pgqrs_runs`,
      )
      const steps = await query<any>(
        `select run_id, step_key, status, output from ${s}.pgqrs_steps`,
      )
      const tx = await query<any>(`select run_id, lease, pid from ${s}.chaos_tx`)
      return normalise({ active, archive, runs, steps, tx })
    },
    async close() {
      await store.close()
      await admin.end()
    },
  }
}

/** A fresh SQLite (or Turso) file `file`. */
export async function sqliteTarget(
  backend: 'sqlite' | 'turso',
  file: string,
  config: PgqrsConfig = {},
): Promise<Target> {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const dsn = `${backend}://${file}`
  const store = await connect(dsn, { ...config, logger: false })
  let raw: Database.Database | null = null
  const db = () => {
    raw ??= new Database(file)
    raw.pragma('busy_timeout = 5000')
    return raw
  }
  const query = async <T>(text: string, params: unknown[] = []) =>
    db()
      .prepare(text)
      .all(...(params as unknown[])) as T[]
  return {
    backend,
    dsn,
    config,
    schema: null,
    store,
    query,
    async install() {
      await store.migrate()
      db().exec(`create table if not exists chaos_tx (
        id integer primary key, run_id integer not null, step text not null, pid integer not null, lease text)`)
    },
    async progress() {
      const [r] = await query<{ active: number; unfinished: number }>(
        `select (select count(*) from pgqrs_messages) as active,
          (select count(*) from pgqrs_runs where status not in ('SUCCESS','ERROR','CANCELLED')) as unfinished`,
      )
      return { active: Number(r!.active), unfinishedRuns: Number(r!.unfinished) }
    },
    async snapshot() {
      const active = await query<any>(
        `select m.id, m.lease, m.visible_at as visible_ms, q.name as queue
         from pgqrs_messages m join pgqrs_queues q on q.id = m.queue_id`,
      )
      const archive = await query<any>(
        `select a.id, a.lease, a.archived_at is not null as archived, a.dead_at is not null as dead,
           a.attempts, q.name as queue, a.last_error, a.payload
         from pgqrs_archive a join pgqrs_queues q on q.id = a.queue_id`,
      )
      const runs = await query<any>('select id, message_id, status, output, error from pgqrs_runs')
      const steps = await query<any>('select run_id, step_key, status, output from pgqrs_steps')
      const tx = await query<any>('select run_id, lease, pid from chaos_tx')
      return normalise({ active, archive, runs, steps, tx })
    },
    async close() {
      await store.close()
      raw?.close()
    },
  }
}

function normalise(r: {
  active: any[]
  archive: any[]
  runs: any[]
  steps: any[]
  tx: any[]
}): Snapshot {
  return {
    active: r.active.map((x) => ({
      id: Number(x.id),
      lease: x.lease ?? null,
      visibleAtMs: Number(x.visible_ms),
      queue: x.queue,
    })),
    archive: r.archive.map((x) => ({
      id: Number(x.id),
      lease: x.lease ?? null,
      archived: Boolean(x.archived),
      dead: Boolean(x.dead),
      attempts: Number(x.attempts),
      queue: x.queue,
      lastError: x.last_error ?? null,
      payload: json(x.payload),
    })),
    runs: r.runs.map((x) => ({
      id: Number(x.id),
      messageId: Number(x.message_id),
      status: x.status,
      output: json(x.output),
      error: json(x.error),
    })),
    steps: r.steps.map((x) => ({
      runId: Number(x.run_id),
      stepKey: x.step_key,
      status: x.status,
      output: json(x.output),
    })),
    tx: r.tx.map((x) => ({ runId: Number(x.run_id), lease: x.lease ?? null, pid: Number(x.pid) })),
  }
}
