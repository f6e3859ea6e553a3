import type { Db, ExecOptions, StoreExec } from '../exec.js'
import type { FamilySql } from '../family.js'
import { translatePostgresError } from './errors.js'

/**
 * How statements run on Postgres: a single statement is atomic by itself (autocommit, one round
 * trip), several run in one transaction; the pool gives each its own connection, so nothing is
 * serialised in the process. @internal
 */
export class PostgresExec implements StoreExec {
  readonly f: FamilySql
  readonly backend: string
  readonly #db: Db
  readonly #schema: string
  #writes = 0

  constructor(f: FamilySql, schema: string, options: ExecOptions) {
    this.f = f
    this.backend = options.backend
    this.#db = options.db
    this.#schema = schema
  }

  get writes(): number {
    return this.#writes
  }

  noteWrite(): void {
    this.#writes++
  }

  async translate(error: unknown, op: string): Promise<never> {
    throw translatePostgresError(error, {
      backend: this.backend,
      operation: op,
      schema: this.#schema,
    })
  }

  async read<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#db)
    } catch (e) {
      return this.translate(e, op)
    }
  }

  write1<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    this.#writes++
    return this.read(op, fn)
  }

  async write<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    this.#writes++
    try {
      return await this.#db.transaction().execute(fn)
    } catch (e) {
      return this.translate(e, op)
    }
  }

  async transaction<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    this.#writes++
    const thrown = new Set<unknown>()
    try {
      return await this.#db.transaction().execute(async (db) => {
        try {
          return await fn(db)
        } catch (e) {
          thrown.add(e)
          throw e
        }
      })
    } catch (e) {
      if (thrown.has(e)) throw e
      return this.translate(e, 'transaction')
    }
  }
}
