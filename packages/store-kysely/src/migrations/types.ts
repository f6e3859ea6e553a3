import type { Db } from '../dialect.js'

/** A forward-only schema migration. @internal */
export interface PgqrsMigration {
  /** `NNNN_description`; applied in array order and recorded in `pgqrs_migrations`. */
  readonly name: string
  /** Runs the DDL; called inside the migration transaction. `schema` is used by Postgres only. */
  up(db: Db, schema: string): Promise<void>
}
