import type { PgqrsMigration } from '../../migration.js'

/**
 * 0004_durable_workflows (sqlite family): events sent into a run, values a run publishes, and the
 * event a wait step waits for, and a run's deadline (see the Postgres migration of the same name).
 */
export const durableWorkflows: PgqrsMigration = {
  name: '0004_durable_workflows',
  statements: [
    String.raw`create table pgqrs_events (
  id integer primary key autoincrement,
  run_id integer not null references pgqrs_runs (id) on delete cascade,
  name text not null,
  payload text not null,
  idempotency_key text,
  created_at integer not null,
  consumed_at integer,
  consumed_by text,
  unique (run_id, idempotency_key)
)`,
    String.raw`create index pgqrs_events_pending on pgqrs_events (run_id, name, id) where consumed_at is null`,
    String.raw`create table pgqrs_run_values (
  run_id integer not null references pgqrs_runs (id) on delete cascade,
  key text not null,
  value text not null,
  updated_at integer not null,
  primary key (run_id, key)
)`,
    'alter table pgqrs_steps add column wait_event text',
    'alter table pgqrs_runs add column deadline_at integer',
  ],
}
