import type { PgqrsMigration } from '../../migration.js'

/**
 * 0008_child_workflows (sqlite family): a run's parent and the parent's step that started it, and
 * the two parent-child rules as triggers (see the Postgres migration of the same name). "Now" is
 * the run row's `updated_at`, which the store clock set in the same statement. SQLite does not let
 * a trigger fire itself (`recursive_triggers` is off), so a cancel reaches the grandchildren when
 * a child becomes CANCELLED (at its next delivery or step boundary, which its woken message brings
 * soon), not in the statement that cancelled the parent as on Postgres.
 */
export const childWorkflows: PgqrsMigration = {
  name: '0008_child_workflows',
  statements: [
    'alter table pgqrs_runs add column parent_id integer references pgqrs_runs (id) on delete set null',
    'alter table pgqrs_runs add column parent_step text',
    'create index pgqrs_runs_parent on pgqrs_runs (parent_id, id) where parent_id is not null',
    // a parent that awaits this child (wait step `await:<id>` RUNNING, message released) wakes now
    String.raw`create trigger pgqrs_child_ended after update of status on pgqrs_runs
when new.parent_id is not null
  and new.status in ('SUCCESS', 'ERROR', 'CANCELLED')
  and old.status not in ('SUCCESS', 'ERROR', 'CANCELLED')
begin
  update pgqrs_messages set visible_at = new.updated_at
  where id = (select p.message_id from pgqrs_runs p where p.id = new.parent_id)
    and lease is null and visible_at > new.updated_at
    and exists (select 1 from pgqrs_steps s where s.run_id = new.parent_id
      and s.step_key = 'await:' || new.id and s.status = 'RUNNING');
end`,
    String.raw`create trigger pgqrs_cancel_children after update of status on pgqrs_runs
when (new.status = 'CANCELLING' and old.status <> 'CANCELLING')
  or (new.status = 'CANCELLED' and old.status <> 'CANCELLED')
begin
  update pgqrs_runs set status = 'CANCELLING', updated_at = new.updated_at, wake_at = null
  where parent_id = new.id and status in ('QUEUED', 'RUNNING', 'SLEEPING', 'PAUSED');
  update pgqrs_messages set visible_at = new.updated_at
  where id in (select c.message_id from pgqrs_runs c
      where c.parent_id = new.id and c.status = 'CANCELLING')
    and lease is null and visible_at > new.updated_at;
end`,
  ],
}
