import type { PgqrsMigration } from '../../migration.js'

/**
 * 0008_child_workflows (Postgres): a run started by another run (`ctx.startChild`) records its
 * parent (`parent_id`) and the parent's step that started it (`parent_step`). Two triggers keep
 * the parent-child rules in the database, so that every path that changes a run status (the
 * engine, `cancelRun`, the dead-letter trigger) follows them in the same transaction:
 * - a child that ends (SUCCESS, ERROR, CANCELLED) wakes its parent when the parent awaits it
 *   (its wait step `await:<child id>` is RUNNING and its message is released): the parent's message
 *   becomes visible now, and its queue is NOTIFYed;
 * - a run that becomes CANCELLING makes its unfinished children CANCELLING and wakes their
 *   messages (NOTIFY); the trigger fires again for each child, so the whole tree is cancelled at once.
 */
export const childWorkflows: PgqrsMigration = {
  name: '0008_child_workflows',
  statements: [
    String.raw`alter table {{schema}}.pgqrs_runs
  add column parent_id bigint references {{schema}}.pgqrs_runs (id) on delete set null,
  add column parent_step text`,
    // admin.runs({ parentId }) and the two triggers find the children of a run: only children are indexed.
    String.raw`create index pgqrs_runs_parent on {{schema}}.pgqrs_runs (parent_id, id) where parent_id is not null`,
    // The parent's message is locked FOR UPDATE before it is tested: a parent that is falling
    // asleep on this child holds it FOR SHARE until its settle commits, so either the parent
    // committed first (then this sees the released message and wakes it) or this child did (then
    // the parent's settle, a later statement, sees the child ended and releases at once).
    String.raw`create function {{schema}}.pgqrs_child_ended() returns trigger
language plpgsql
set search_path = pg_catalog, {{schema}}, pg_temp
as $fn$
declare
  v_message bigint;
  v_queue text;
  v_schema text;
  v_channel text;
begin
  select p.message_id into v_message from pgqrs_runs p where p.id = new.parent_id;
  if v_message is null then
    return null;
  end if;
  perform 1 from pgqrs_messages m where m.id = v_message for update;
  update pgqrs_messages m set visible_at = now()
  from pgqrs_queues q
  where m.id = v_message and q.id = m.queue_id and m.lease is null and m.visible_at > now()
    and exists (select 1 from pgqrs_steps s where s.run_id = new.parent_id
      and s.step_key = 'await:' || new.id and s.status = 'RUNNING')
  returning q.name into v_queue;
  if v_queue is not null then
    select n.nspname into v_schema from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.oid = 'pgqrs_queues'::regclass;
    v_channel := case when octet_length('pgqrs:' || v_schema) <= 63 then 'pgqrs:' || v_schema
      else 'pgqrs:' || left(encode(sha256(convert_to(v_schema, 'UTF8')), 'hex'), 40) end;
    perform pg_notify(v_channel, v_queue);
  end if;
  return null;
end
$fn$`,
    String.raw`create trigger pgqrs_child_ended after update of status on {{schema}}.pgqrs_runs
for each row when (new.parent_id is not null
  and new.status in ('SUCCESS', 'ERROR', 'CANCELLED')
  and old.status not in ('SUCCESS', 'ERROR', 'CANCELLED'))
execute function {{schema}}.pgqrs_child_ended()`,
    String.raw`create function {{schema}}.pgqrs_cancel_children() returns trigger
language plpgsql
set search_path = pg_catalog, {{schema}}, pg_temp
as $fn$
declare
  v_schema text;
  v_channel text;
  v_queue text;
begin
  update pgqrs_runs c set status = 'CANCELLING', updated_at = now(), wake_at = null
  where c.parent_id = new.id and c.status in ('QUEUED', 'RUNNING', 'SLEEPING', 'PAUSED');
  select n.nspname into v_schema from pg_class cl join pg_namespace n on n.oid = cl.relnamespace
    where cl.oid = 'pgqrs_queues'::regclass;
  v_channel := case when octet_length('pgqrs:' || v_schema) <= 63 then 'pgqrs:' || v_schema
    else 'pgqrs:' || left(encode(sha256(convert_to(v_schema, 'UTF8')), 'hex'), 40) end;
  for v_queue in
    with woken as (
      update pgqrs_messages m set visible_at = now()
      from pgqrs_runs c
      where c.parent_id = new.id and c.status = 'CANCELLING' and m.id = c.message_id
        and m.lease is null and m.visible_at > now()
      returning m.queue_id
    )
    select distinct q.name from woken w join pgqrs_queues q on q.id = w.queue_id
  loop
    perform pg_notify(v_channel, v_queue);
  end loop;
  return null;
end
$fn$`,
    String.raw`create trigger pgqrs_cancel_children after update of status on {{schema}}.pgqrs_runs
for each row when (new.status = 'CANCELLING' and old.status <> 'CANCELLING')
execute function {{schema}}.pgqrs_cancel_children()`,
  ],
}
