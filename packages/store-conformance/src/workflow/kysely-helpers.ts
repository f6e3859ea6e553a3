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

/** Where the suite's own tables go: a Kysely instance on the store's database, and its schema. */
export interface KyselyPlace {
  readonly db: KyselyLike
  /** The schema of the store's tables (Postgres), or null where there is none. */
  readonly schema: string | null
}

/** `db` scoped to where the store keeps its tables. */
export function scoped(db: KyselyLike, schema: string | null): KyselyLike {
  return schema === null ? db : db.withSchema(schema)
}

/** Creates `table(run_id integer not null, note text)` next to the store's own tables. */
export async function createNotesTable(place: KyselyPlace, table: string): Promise<void> {
  const schema = place.schema === null ? place.db.schema : place.db.schema.withSchema(place.schema)
  await schema
    .createTable(table)
    .addColumn('run_id', 'integer', (c) => c.notNull())
    .addColumn('note', 'text')
    .execute()
}

/** The notes of `table` written for run `runId`. */
export async function notesOf(place: KyselyPlace, table: string, runId: number): Promise<string[]> {
  const rows = await scoped(place.db, place.schema)
    .selectFrom(table)
    .selectAll()
    .where('run_id', '=', runId)
    .execute()
  return rows.map((r) => String(r.note))
}

/** The harness's declared {@link KyselyPlace} of `store` (the tests calling this are registered only then). */
export function kyselyPlace(
  harness: { kysely?(store: Store): { readonly db: unknown; readonly schema: string | null } },
  store: Store,
): KyselyPlace {
  const got = harness.kysely?.(store)
  if (!got) throw new Error('store-conformance: this test needs harness.kysely(store)')
  return { db: got.db as KyselyLike, schema: got.schema }
}
