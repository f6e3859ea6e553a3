import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Store } from '@pgqrs/core'
import { admin } from '@pgqrs/queue'
import { PostgresStore } from '@pgqrs/store-postgres'
import { SqliteStore } from '@pgqrs/store-sqlite'
import pg from 'pg'
import type { NodeHandler } from '../dist/index.js'

/** The server the Postgres tests use (as every package's tests do). */
export const PG_URL =
  process.env.PGQRS_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'

async function probe(): Promise<string> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('select 1')
    return ''
  } catch (e) {
    return `no PostgreSQL answers at ${PG_URL.replace(/:[^:@/]*@/, ':***@')} (${(e as Error).message})`
  } finally {
    await client.end().catch(() => {})
  }
}

/** '' when PostgreSQL answers at {@link PG_URL}; otherwise why the Postgres suites skip. */
export const pgSkipReason: string = await probe()

/** A store under test and how to get rid of it. */
export interface TestStore {
  readonly store: Store
  /** Closes the store and drops its schema (Postgres) or removes its file (SQLite). */
  destroy(): Promise<void>
}

/** A fresh Postgres schema (`pgqrs_dash_<random>`) with pgqrs installed; destroy() drops it. */
export async function postgresStore(): Promise<TestStore & { schema: string }> {
  const schema = `pgqrs_dash_${randomBytes(5).toString('hex')}`
  const store = new PostgresStore({
    connectionString: PG_URL,
    schema,
    logger: false,
    maxConnections: 8,
  })
  await admin(store).install()
  return {
    store,
    schema,
    async destroy() {
      await store.pool.query(`drop schema if exists "${schema}" cascade`)
      await store.close()
    },
  }
}

/** A fresh SQLite file in a temp directory (never `:memory:`); destroy() removes it. */
export async function sqliteStore(): Promise<TestStore & { path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pgqrs-dash-'))
  const path = join(dir, 'dashboard.db')
  const store = new SqliteStore({ path, logger: false })
  await admin(store).install()
  return {
    store,
    path,
    async destroy() {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A listening HTTP server on a free loopback port. */
export interface Served {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly origin: string
  readonly server: Server
  close(): Promise<void>
}

/** Serves `handler` on 127.0.0.1 and a free port. */
export async function serve(handler: NodeHandler): Promise<Served> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Waits until `check` returns a value that is not undefined/false, polling every 50 ms. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
