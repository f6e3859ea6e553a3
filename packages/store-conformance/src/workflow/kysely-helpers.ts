/**
 * Kysely helpers of the workflow suite (no vitest import: the crash children use them too). The
 * suite's own tables live next to the store's: in the store's schema on Postgres.
 */
import type { Store } from '@pgqrs/core'

/** The part of Kysely's `createTable` builder the suite uses. */
export interface CreateTableLike {
  addColumn(
    name: string,
    type: string,
    build?: (c: { notNull(): unknown }) => unknown,
  ): CreateTableLike
  execute(): Promise<unknown>
}

/** The schema module of {@link KyselyLike}. */
export interface SchemaModuleLike {
  withSchema(schema: string): SchemaModuleLike
  createTable(name: string): CreateTableLike
}

/** The few Kysely methods the suite uses on a store's `db` and on a transaction. */
export interface KyselyLike {
  withSchema(schema: string): KyselyLike
  readonly schema: SchemaModuleLike
  insertInto(table: string): {
    values(row: Record<string, unknown>): { execute(): Promise<unknown> }
  }
  selectFrom(table: string): {
    selectAll(): {
      where(
        column: string,
        op: '=',
        value: unknown,
      ): { execute(): Promise<Record<string, unknown>[]> }
    }
  }
}

/** The store's Kysely instance (`KyselyStore.db`), or null for a store that has none. */
export function kyselyOf(store: Store): KyselyLike | null {
  const db = (store as unknown as { db?: unknown }).db
  return typeof db === 'object' && db !== null && 'selectFrom' in db ? (db as KyselyLike) : null
}

/** `db` scoped to where the store keeps its tables: the store's schema on Postgres. */
export function scoped(store: Store, db: KyselyLike): KyselyLike {
  return store.backend === 'postgres' ? db.withSchema(store.config.schema) : db
}

/** Creates `table(run_id integer not null, note text)` next to the store's own tables. */
export async function createNotesTable(store: Store, table: string): Promise<void> {
  const db = kyselyOf(store)
  if (!db) throw new Error(`store ${store.backend} has no Kysely db`)
  const schema =
    store.backend === 'postgres' ? db.schema.withSchema(store.config.schema) : db.schema
  await schema
    .createTable(table)
    .addColumn('run_id', 'integer', (c) => c.notNull())
    .addColumn('note', 'text')
    .execute()
}

/** The notes of `table` written for run `runId`. */
export async function notesOf(store: Store, table: string, runId: number): Promise<string[]> {
  const db = kyselyOf(store)!
  const rows = await scoped(store, db)
    .selectFrom(table)
    .selectAll()
    .where('run_id', '=', runId)
    .execute()
  return rows.map((r) => String(r.note))
}
