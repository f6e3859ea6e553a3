import { sql } from 'kysely'
import type { Db, ExecOptions, StoreExec } from '../exec.js'
import type { FamilySql } from '../family.js'
import { Mutex } from '../mutex.js'
import { isBusy } from '../translate-error.js'
import { translateSqliteError } from './errors.js'

/** How the sqlite family opens a write transaction: see {@link SqliteExec}. */
export type SqliteBegin = 'raw' | 'kysely'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * How statements run on the sqlite family (SQLite, Turso). SQLite has one writer: every call runs
 * under one in-process mutex, and writes run in `BEGIN IMMEDIATE` (`raw`: sent on the single
 * connection; `kysely`: `db.transaction()`, whose write mode is IMMEDIATE on libSQL), retried with
 * async backoff while another process holds the write lock. Only BEGIN is retried: a statement
 * that may have committed never is (the original pgqrs inserted phantom duplicates that way).
 * @internal
 */
export class SqliteExec implements StoreExec {
  readonly f: FamilySql
  readonly backend: string
  readonly #db: Db
  readonly #mutex = new Mutex()
  readonly #begin: SqliteBegin
  readonly #busyRetryMs: number
  readonly #onBusy: (() => Promise<void>) | undefined
  #writes = 0

  constructor(f: FamilySql, options: ExecOptions) {
    this.f = f
    this.backend = options.backend
    this.#db = options.db
    this.#begin = options.sqliteBegin ?? 'raw'
    this.#busyRetryMs = options.busyRetryMs ?? 30_000
    this.#onBusy = options.onBusy
  }

  get writes(): number {
    return this.#writes
  }

  noteWrite(): void {
    this.#writes++
  }

  async translate(error: unknown, op: string, db: Db = this.#db): Promise<never> {
    throw await translateSqliteError(error, {
      backend: this.backend,
      operation: op,
      isInstalled: async () => (await this.f.schema.applied(db).catch(() => [])) !== null,
    })
  }

  read<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    return this.#mutex.run(async () => {
      try {
        return await fn(this.#db)
      } catch (e) {
        return this.translate(e, op)
      }
    })
  }

  write1<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    return this.write(op, fn)
  }

  write<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    this.#writes++
    return this.#mutex.run(() => this.#inTransaction(op, fn, true))
  }

  async transaction<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    this.#writes++
    const thrown = new Set<unknown>()
    try {
      return await this.#mutex.run(() =>
        this.#inTransaction(
          'transaction',
          async (db) => {
            try {
              return await fn(db)
            } catch (e) {
              thrown.add(e)
              throw e
            }
          },
          false,
        ),
      )
    } catch (e) {
      if (thrown.has(e)) throw e
      return this.translate(e, 'transaction')
    }
  }

  async #inTransaction<T>(op: string, fn: (db: Db) => Promise<T>, translate: boolean): Promise<T> {
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
