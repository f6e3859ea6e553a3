import { noteStoreWrite } from '@pgqrs/core'
import { sql } from 'kysely'
import type { Db, SqlDialect } from './dialect.js'
import { Mutex } from './mutex.js'
import { isBusy, translateError } from './translate-error.js'

/**
 * How repositories reach the database. Every call translates driver errors into pgqrs errors.
 * - `read`: a query that writes nothing.
 * - `write1`: one statement that is atomic by itself (no transaction on Postgres).
 * - `write`: several statements that must commit together.
 * On the sqlite family every call runs under one in-process mutex (SQLite has one writer) and
 * writes run in `BEGIN IMMEDIATE`, retried with async backoff while another process holds the
 * write lock; a statement that may have committed is never retried.
 * @internal
 */
export interface Exec {
  readonly d: SqlDialect
  readonly backend: string
  read<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T>
  write1<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T>
  write<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T>
}

/** How the sqlite family opens a write transaction. @internal */
export type SqliteBegin = 'raw' | 'kysely'

/** Options of {@link StoreExec}. @internal */
export interface ExecOptions {
  readonly db: Db
  readonly d: SqlDialect
  readonly backend: string
  readonly schema: string
  /** sqlite family: `raw` sends `BEGIN IMMEDIATE` on the single connection, `kysely` uses `db.transaction()` (libSQL's write mode is IMMEDIATE). */
  readonly sqliteBegin?: SqliteBegin
  /** How long a writer keeps retrying a busy database, in ms. */
  readonly busyRetryMs?: number
  /** Called after a busy BEGIN, before the retry (libSQL: replace the connection the failed BEGIN left unusable). */
  readonly onBusy?: () => Promise<void>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The store-level {@link Exec}. @internal */
export class StoreExec implements Exec {
  readonly d: SqlDialect
  readonly backend: string
  readonly #db: Db
  readonly #schema: string
  readonly #mutex = new Mutex()
  readonly #begin: SqliteBegin
  readonly #busyRetryMs: number
  readonly #onBusy: (() => Promise<void>) | undefined

  constructor(options: ExecOptions) {
    this.#onBusy = options.onBusy
    this.#db = options.db
    this.d = options.d
    this.backend = options.backend
    this.#schema = options.schema
    this.#begin = options.sqliteBegin ?? 'raw'
    this.#busyRetryMs = options.busyRetryMs ?? 30_000
  }

  /** Translates a driver error (checking on SQLite whether pgqrs is installed at all). */
  async translate(error: unknown, op: string, db: Db = this.#db): Promise<never> {
    throw await translateError(error, {
      backend: this.backend,
      family: this.d.family,
      operation: op,
      schema: this.#schema,
      isInstalled: () => this.#isInstalled(db),
    })
  }

  /** Whether the pgqrs tables exist (asked only after a failure the driver cannot name on SQLite). */
  async #isInstalled(db: Db): Promise<boolean> {
    try {
      if (this.d.family === 'postgres') {
        const r = await sql<{
          ok: boolean
        }>`select to_regclass(format('%I.%I', ${this.#schema}::text, 'pgqrs_migrations')) is not null as ok`.execute(
          db,
        )
        return Boolean(r.rows[0]?.ok)
      }
      const r = await sql<{
        n: number
      }>`select count(*) as n from sqlite_master where type = 'table' and name = 'pgqrs_migrations'`.execute(
        db,
      )
      return Number(r.rows[0]?.n) > 0
    } catch {
      return true
    }
  }

  async read<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    if (this.d.family === 'postgres') {
      try {
        return await fn(this.#db)
      } catch (e) {
        return this.translate(e, op)
      }
    }
    return this.#mutex.run(async () => {
      try {
        return await fn(this.#db)
      } catch (e) {
        return this.translate(e, op)
      }
    })
  }

  write1<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    if (this.d.family === 'postgres') {
      noteStoreWrite()
      return this.read(op, fn)
    }
    return this.write(op, fn)
  }

  async write<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    noteStoreWrite()
    if (this.d.family === 'postgres') {
      try {
        return await this.#db.transaction().execute(fn)
      } catch (e) {
        return this.translate(e, op)
      }
    }
    return this.#mutex.run(() => this.#sqliteWrite(op, fn))
  }

  /** Runs `fn` in a write transaction of the caller's choosing (store.transaction). */
  async transaction<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    // Errors thrown by `fn` (the caller's code, or pgqrs repositories, which translate their own)
    // pass through unchanged; errors of BEGIN, COMMIT or the connection itself are translated, so
    // a broken connection is a typed pgqrs error and never a raw driver error.
    const thrown = new Set<unknown>()
    const body = async (db: Db) => {
      try {
        return await fn(db)
      } catch (e) {
        thrown.add(e)
        throw e
      }
    }
    try {
      if (this.d.family === 'postgres') return await this.#db.transaction().execute(body)
      return await this.#mutex.run(() => this.#sqliteWrite('transaction', body, false))
    } catch (e) {
      if (thrown.has(e)) throw e
      return this.translate(e, 'transaction')
    }
  }

  async #sqliteWrite<T>(op: string, fn: (db: Db) => Promise<T>, translate = true): Promise<T> {
    const deadline = Date.now() + this.#busyRetryMs
    for (let attempt = 0; ; attempt++) {
      let entered = false
      try {
        if (this.#begin === 'kysely') {
          return await this.#db.transaction().execute((trx) => {
            entered = true
            return fn(trx)
          })
        }
        return await this.#db.connection().execute(async (conn) => {
          await sql`begin immediate`.execute(conn)
          entered = true
          try {
            const result = await fn(conn)
            await sql`commit`.execute(conn)
            return result
          } catch (e) {
            await sql`rollback`.execute(conn).catch(() => {})
            throw e
          }
        })
      } catch (e) {
        // Only BEGIN is retried: nothing of `fn` ran, so nothing can have committed.
        if (!entered && isBusy(e) && Date.now() < deadline) {
          await this.#onBusy?.()
          await sleep(Math.min(5 * 2 ** Math.min(attempt, 6), 250) * (0.5 + Math.random()))
          continue
        }
        if (!translate) throw e
        return this.translate(e, op)
      }
    }
  }
}

/** An {@link Exec} bound to one open transaction: no mutex, no nested transaction. @internal */
export class TxExec implements Exec {
  readonly d: SqlDialect
  readonly backend: string
  readonly #trx: Db
  readonly #parent: StoreExec

  constructor(parent: StoreExec, trx: Db) {
    this.#parent = parent
    this.#trx = trx
    this.d = parent.d
    this.backend = parent.backend
  }

  async read<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#trx)
    } catch (e) {
      return this.#parent.translate(e, op, this.#trx)
    }
  }

  write1<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    noteStoreWrite()
    return this.read(op, fn)
  }

  write<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    noteStoreWrite()
    return this.read(op, fn)
  }
}
