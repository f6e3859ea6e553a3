import type { PgqrsMigration } from '../../migration.js'

/**
 * 0005_archive_counts (Postgres): the archived and dead counts of each queue as an append-only log
 * of deltas, so queue metrics never count the archive. Each statement that inserts into or deletes
 * from the archive adds one row per queue it touched (a statement trigger over its transition
 * table: one call per statement, not per row). Rows are only ever inserted, never updated, so
 * concurrent settles never wait on a shared counter row and a long transaction elsewhere leaves no
 * chain of dead versions to walk; the metrics statement folds the log back to one row per queue.
 * The archive's current counts are the first rows. Self-contained: renumbering it changes nothing.
 */
export const archiveCounts: PgqrsMigration = {
  name: '0005_archive_counts',
  statements: [
    String.raw`create table {{schema}}.pgqrs_archive_counts (
  queue_id bigint not null,
  archived bigint not null,
  dead bigint not null
)`,
    'create index pgqrs_archive_counts_queue on {{schema}}.pgqrs_archive_counts (queue_id)',
    String.raw`insert into {{schema}}.pgqrs_archive_counts (queue_id, archived, dead)
select queue_id, count(archived_at), count(dead_at) from {{schema}}.pgqrs_archive group by queue_id`,
    String.raw`create function {{schema}}.pgqrs_archive_count_insert() returns trigger
language plpgsql
set search_path = pg_catalog, {{schema}}, pg_temp
as $fn$
begin
  insert into pgqrs_archive_counts (queue_id, archived, dead)
    select n.queue_id, count(n.archived_at), count(n.dead_at) from pgqrs_archive_new n
    group by n.queue_id;
  return null;
end
$fn$`,
    String.raw`create function {{schema}}.pgqrs_archive_count_delete() returns trigger
language plpgsql
set search_path = pg_catalog, {{schema}}, pg_temp
as $fn$
begin
  insert into pgqrs_archive_counts (queue_id, archived, dead)
    select o.queue_id, -count(o.archived_at), -count(o.dead_at) from pgqrs_archive_old o
    group by o.queue_id;
  return null;
end
$fn$`,
    String.raw`create trigger pgqrs_archive_counted_insert after insert on {{schema}}.pgqrs_archive
referencing new table as pgqrs_archive_new
for each statement execute function {{schema}}.pgqrs_archive_count_insert()`,
    String.raw`create trigger pgqrs_archive_counted_delete after delete on {{schema}}.pgqrs_archive
referencing old table as pgqrs_archive_old
for each statement execute function {{schema}}.pgqrs_archive_count_delete()`,
  ],
}
