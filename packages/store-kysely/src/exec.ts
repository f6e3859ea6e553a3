import type { Kysely } from 'kysely'
import type { FamilySql } from './family.js'

/** Any Kysely instance or transaction pgqrs runs its SQL on. @internal */
export type Db = Kysely<any>

/**
 * How repositories reach the database. Every call translates driver errors into pgqrs errors.
 * - `read`: a query that writes nothing.
 * - `write1`: one statement that is atomic by itself (no transaction where the family needs none).
 * - `write`: several statements that must commit together.
 * Each family implements it its own way (`postgres/exec.ts`, `sqlite/exec.ts`); inside a
 * transaction all three run on that transaction ({@link TxExec}).
 * @internal
 */
export interface Exec {
  /** The SQL of the store's family. */
  readonly f: FamilySql
  readonly backend: string
  read<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T>
  write1<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T>
  write<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T>
}

/** The store-level {@link Exec}: it also opens transactions and translates errors. @internal */
export interface StoreExec extends Exec {
  /** Writes started through this exec (and its transactions) so far. */
  readonly writes: number
  /** Counts one write (a {@link TxExec} tells its parent). */
  noteWrite(): void
  /**
   * Runs `fn` in a write transaction for `store.transaction`: errors thrown by `fn` pass through
   * unchanged; errors of BEGIN, COMMIT or the connection become pgqrs errors.
   */
  transaction<T>(fn: (db: Db) => Promise<T>): Promise<T>
  /** Translates a driver error of `op` into a pgqrs error and throws it. */
  translate(error: unknown, op: string, db?: Db): Promise<never>
}

/** What a family needs to build its {@link StoreExec}. @internal */
export interface ExecOptions {
  readonly db: Db
  readonly backend: string
  /** sqlite family: how write transactions begin (see `SqliteBegin`). */
  readonly sqliteBegin?: 'raw' | 'kysely'
  /** sqlite family: how long a writer keeps retrying a busy database, in ms. */
  readonly busyRetryMs?: number
  /** sqlite family: called after a busy BEGIN, before it is retried. */
  readonly onBusy?: () => Promise<void>
}

/** An {@link Exec} bound to one open transaction: no mutex, no nested transaction. @internal */
export class TxExec implements Exec {
  readonly f: FamilySql
  readonly backend: string
  readonly #trx: Db
  readonly #parent: StoreExec

  constructor(parent: StoreExec, trx: Db) {
    this.#parent = parent
    this.#trx = trx
    this.f = parent.f
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
    this.#parent.noteWrite()
    return this.read(op, fn)
  }

  write<T>(op: string, fn: (db: Db) => Promise<T>): Promise<T> {
    this.#parent.noteWrite()
    return this.read(op, fn)
  }
}
