import type { PgqrsMigration } from '../../migration.js'

/**
 * 0001_baseline (sqlite family: SQLite and Turso): the whole schema of the first release, frozen.
 * Times are INTEGER epoch ms from the store's clock, JSON is TEXT, ids are AUTOINCREMENT so that an
 * id moved to the archive is never handed out again. Tables, indexes and rules match the Postgres
 * baseline; docs/schema.md explains each.
 */
export const baseline: PgqrsMigration = {
  name: '0001_baseline',
  statements: [
    String.raw`create table pgqrs_queues (
  id integer primary key autoincrement,
  name text not null unique,
  created_at integer not null
)`,
    String.raw`create table pgqrs_workers (
  id integer primary key autoincrement,
  name text not null unique,
  queue_id integer references pgqrs_queues (id) on delete set null,
  hostname text not null,
  pid integer not null,
  status text not null default 'ready'
    check (status in ('ready', 'polling', 'suspended', 'interrupted', 'stopped')),
  started_at integer not null,
  heartbeat_at integer not null,
  shutdown_at integer
)`,
    String.raw`create index pgqrs_workers_queue on pgqrs_workers (queue_id, status)`,
    String.raw`create table pgqrs_messages (
  id integer primary key autoincrement,
  queue_id integer not null references pgqrs_queues (id) on delete cascade,
  payload text not null,
  priority integer not null default 0,
  enqueued_at integer not null,
  visible_at integer not null,
  attempts integer not null default 0,
  max_attempts integer not null check (max_attempts > 0),
  lease text,
  consumer_id integer,
  producer_id integer,
  dedupe_key text,
  last_error text,
  dequeued_at integer
)`,
    String.raw`create index pgqrs_messages_claim on pgqrs_messages (queue_id, priority desc, visible_at, id)`,
    String.raw`create unique index pgqrs_messages_dedupe on pgqrs_messages (queue_id, dedupe_key) where dedupe_key is not null`,
    // As on Postgres, no foreign key: rows only arrive moved from pgqrs_messages, and
    // queues.delete removes a queue's archive rows itself.
    String.raw`create table pgqrs_archive (
  id integer primary key,
  queue_id integer not null,
  payload text not null,
  priority integer not null,
  enqueued_at integer not null,
  visible_at integer not null,
  attempts integer not null,
  max_attempts integer not null,
  lease text,
  consumer_id integer,
  producer_id integer,
  dedupe_key text,
  last_error text,
  dequeued_at integer,
  archived_at integer,
  dead_at integer,
  check ((archived_at is null) <> (dead_at is null))
)`,
    String.raw`create index pgqrs_archive_archived on pgqrs_archive (queue_id, archived_at) where archived_at is not null`,
    String.raw`create index pgqrs_archive_dead on pgqrs_archive (queue_id, dead_at) where dead_at is not null`,
    String.raw`create table pgqrs_workflows (
  id integer primary key autoincrement,
  name text not null unique,
  queue_id integer not null references pgqrs_queues (id) on delete cascade,
  created_at integer not null
)`,
    String.raw`create table pgqrs_runs (
  id integer primary key autoincrement,
  workflow_id integer not null references pgqrs_workflows (id) on delete cascade,
  message_id integer not null unique,
  status text not null default 'QUEUED' check (status in
    ('QUEUED', 'RUNNING', 'SLEEPING', 'PAUSED', 'CANCELLING', 'CANCELLED', 'SUCCESS', 'ERROR')),
  input text,
  output text,
  error text,
  idempotency_key text,
  wake_at integer,
  created_at integer not null,
  updated_at integer not null,
  started_at integer,
  completed_at integer,
  unique (workflow_id, idempotency_key)
)`,
    String.raw`create index pgqrs_runs_workflow on pgqrs_runs (workflow_id, created_at desc)`,
    String.raw`create index pgqrs_runs_status on pgqrs_runs (status, created_at desc)`,
    String.raw`create table pgqrs_steps (
  id integer primary key autoincrement,
  run_id integer not null references pgqrs_runs (id) on delete cascade,
  step_key text not null,
  status text not null check (status in ('RUNNING', 'SUCCESS', 'ERROR')),
  output text,
  error text,
  retry_count integer not null default 0,
  retry_at integer,
  created_at integer not null,
  started_at integer,
  completed_at integer,
  unique (run_id, step_key)
)`,
    // A dead message ends its workflow run in ERROR, whichever path buried it: the rule lives
    // here once (the same text as the Postgres trigger's).
    String.raw`create trigger pgqrs_archive_dead after insert on pgqrs_archive
when new.dead_at is not null
begin
  update pgqrs_runs set status = 'ERROR', updated_at = new.dead_at, completed_at = new.dead_at,
    error = json_object('name', 'DeadLetter', 'transient', json('false'),
      'message', 'the run''s message was dead-lettered after ' || new.attempts || ' of '
        || new.max_attempts || ' deliveries: ' || coalesce(new.last_error, 'no error recorded'))
  where message_id = new.id and status not in ('SUCCESS', 'ERROR', 'CANCELLED');
end`,
  ],
}
