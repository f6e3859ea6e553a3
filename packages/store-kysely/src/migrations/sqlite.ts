import { sql } from 'kysely'
import type { Db } from '../dialect.js'
import type { PgqrsMigration } from './types.js'

/**
 * 0001_init (sqlite family: SQLite and Turso). Times are INTEGER epoch ms, JSON is TEXT, ids are
 * AUTOINCREMENT so that an id moved to the archive is never handed out again.
 */
const init: PgqrsMigration = {
  name: '0001_init',
  async up(db: Db) {
    const statements = [
      sql`create table pgqrs_queues (
        id integer primary key autoincrement,
        name text not null unique,
        created_at integer not null
      )`,
      sql`create table pgqrs_workers (
        id integer primary key autoincrement,
        name text not null unique,
        queue_id integer references pgqrs_queues(id) on delete set null,
        hostname text not null,
        pid integer not null,
        status text not null default 'ready'
          check (status in ('ready', 'polling', 'suspended', 'interrupted', 'stopped')),
        started_at integer not null,
        heartbeat_at integer not null,
        shutdown_at integer
      )`,
      sql`create index pgqrs_workers_queue on pgqrs_workers (queue_id, status)`,
      sql`create table pgqrs_messages (
        id integer primary key autoincrement,
        queue_id integer not null references pgqrs_queues(id) on delete cascade,
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
      sql`create index pgqrs_messages_claim on pgqrs_messages (queue_id, priority desc, visible_at, id)`,
      sql`create unique index pgqrs_messages_dedupe on pgqrs_messages (queue_id, dedupe_key) where dedupe_key is not null`,
      sql`create index pgqrs_messages_consumer on pgqrs_messages (consumer_id) where consumer_id is not null`,
      sql`create table pgqrs_archive (
        id integer primary key,
        queue_id integer not null references pgqrs_queues(id) on delete cascade,
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
      sql`create index pgqrs_archive_archived on pgqrs_archive (queue_id, archived_at) where archived_at is not null`,
      sql`create index pgqrs_archive_dead on pgqrs_archive (queue_id, dead_at) where dead_at is not null`,
      sql`create table pgqrs_workflows (
        id integer primary key autoincrement,
        name text not null unique,
        queue_id integer not null references pgqrs_queues(id) on delete cascade,
        created_at integer not null
      )`,
      sql`create table pgqrs_runs (
        id integer primary key autoincrement,
        workflow_id integer not null references pgqrs_workflows(id) on delete cascade,
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
      sql`create index pgqrs_runs_workflow on pgqrs_runs (workflow_id, created_at desc)`,
      sql`create index pgqrs_runs_status on pgqrs_runs (status, created_at desc)`,
      sql`create table pgqrs_steps (
        id integer primary key autoincrement,
        run_id integer not null references pgqrs_runs(id) on delete cascade,
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
    ]
    for (const s of statements) await s.execute(db)
  },
}

/** sqlite-family migrations, oldest first. Never edit a released one; add a new one. */
export const SQLITE_MIGRATIONS: readonly PgqrsMigration[] = [init]
