import { sql } from 'kysely'
import type { Db } from '../dialect.js'
import type { PgqrsMigration } from './types.js'

/**
 * 0004_archive_without_fk (Postgres): drops the foreign key from `pgqrs_archive.queue_id` to
 * `pgqrs_queues`. Its check ran a `SELECT … FOR KEY SHARE` on the queue row for every archived
 * message, which cost 5–10 % of a worker's drain rate (docs/performance.md). The key added nothing
 * the writers do not already guarantee: an archive row is only ever moved from `pgqrs_messages` in
 * the statement that deletes the message row, and that table keeps its key (with its cascade),
 * so a mover and a queue deletion serialise on the message row. `queues.delete` removes the
 * queue's archive rows itself, in its transaction, after the queue row (and so after any mover
 * that got there first).
 */
export const archiveWithoutForeignKey: PgqrsMigration = {
  name: '0004_archive_without_fk',
  async up(db: Db, schema: string) {
    await sql`alter table ${sql.id(schema, 'pgqrs_archive')}
      drop constraint if exists pgqrs_archive_queue_id_fkey`.execute(db)
  },
}
