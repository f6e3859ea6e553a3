import type { PgqrsMigration } from '../../migration.js'

/**
 * 0007_schedules_limits (sqlite family): cron schedules (see the Postgres migration of the same
 * name). Times are epoch ms; the payload is JSON text. Concurrency and rate limits: the queue
 * columns, `pgqrs_rate_claims` and `pgqrs_message_keys`, as on Postgres; the claim enforces them in its write transaction (the
 * single writer serialises claims). Frozen text: imports nothing.
 */
export const schedulesLimits: PgqrsMigration = {
  name: '0007_schedules_limits',
  statements: [
    String.raw`create table pgqrs_schedules (
  id integer primary key autoincrement,
  name text not null unique,
  cron text not null,
  timezone text,
  kind text not null check (kind in ('queue', 'workflow')),
  target text not null,
  payload text,
  overlap text not null default 'allow' check (overlap in ('allow', 'skip')),
  catch_up text not null default 'none' check (catch_up in ('none', 'latest', 'all')),
  next_run_at integer not null,
  revision integer not null default 0,
  paused_at integer,
  last_tick_at integer,
  last_message_id integer,
  created_at integer not null,
  updated_at integer not null
)`,
    String.raw`create index pgqrs_schedules_due on pgqrs_schedules (next_run_at)
  where paused_at is null`,
    String.raw`alter table pgqrs_queues add column max_concurrency integer
  check (max_concurrency is null or max_concurrency > 0)`,
    String.raw`alter table pgqrs_queues add column concurrency_per_key integer
  check (concurrency_per_key is null or concurrency_per_key > 0)`,
    'alter table pgqrs_queues add column rate_max integer check (rate_max is null or rate_max > 0)',
    String.raw`alter table pgqrs_queues add column rate_per_ms integer
  check (rate_per_ms is null or rate_per_ms > 0)`,
    String.raw`alter table pgqrs_queues add column rate_per_key integer not null default 0
  check (rate_per_key in (0, 1))`,
    String.raw`create table pgqrs_rate_claims (
  queue_id integer not null,
  rate_key text not null,
  claimed_at integer not null
)`,
    String.raw`create index pgqrs_rate_claims_window on pgqrs_rate_claims (queue_id, rate_key, claimed_at)`,
    String.raw`create table pgqrs_message_keys (
  message_id integer primary key,
  queue_id integer not null,
  concurrency_key text not null
)`,
    String.raw`create index pgqrs_message_keys_queue on pgqrs_message_keys (queue_id, concurrency_key)`,
  ],
}
