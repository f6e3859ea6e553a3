import type { PgqrsMigration } from '../../migration.js'

/**
 * 0005_archive_counts (sqlite family): the archived and dead counts of each queue, kept by
 * triggers on the archive, so queue metrics never count the archive. One row per queue, updated in
 * place: the sqlite family has one writer, so a shared counter row costs no waiting (Postgres keeps
 * an append-only log instead; see its migration of the same name). The row goes with its queue.
 * Self-contained: renumbering it changes nothing.
 */
export const archiveCounts: PgqrsMigration = {
  name: '0005_archive_counts',
  statements: [
    String.raw`create table pgqrs_archive_counts (
  queue_id integer primary key references pgqrs_queues (id) on delete cascade,
  archived integer not null,
  dead integer not null
)`,
    String.raw`insert into pgqrs_archive_counts (queue_id, archived, dead)
select a.queue_id, count(a.archived_at), count(a.dead_at) from pgqrs_archive a
where a.queue_id in (select id from pgqrs_queues) group by a.queue_id`,
    String.raw`create trigger pgqrs_archive_counted_insert after insert on pgqrs_archive
begin
  insert into pgqrs_archive_counts (queue_id, archived, dead)
    select new.queue_id, new.archived_at is not null, new.dead_at is not null
    where exists (select 1 from pgqrs_queues where id = new.queue_id)
  on conflict (queue_id) do update set archived = archived + excluded.archived,
    dead = dead + excluded.dead;
end`,
    String.raw`create trigger pgqrs_archive_counted_delete after delete on pgqrs_archive
begin
  update pgqrs_archive_counts set archived = archived - (old.archived_at is not null),
    dead = dead - (old.dead_at is not null)
  where queue_id = old.queue_id;
end`,
  ],
}
