import { sql } from 'kysely'
import { MOVED_COLUMNS } from '../columns.js'
import type { Db } from '../dialect.js'
import type { PgqrsMigration } from './types.js'

/**
 * 0005_workflow_functions (Postgres): a run's status change (`runs.transition`, `runs.end`) and a
 * step's one-write record (`steps.record`) as PL/pgSQL functions. Measured with
 * pg_stat_statements on the 3-step workflow benchmark, Postgres spent as long PLANNING these
 * statements as running them (119 µs of planning per step record, 166 µs per start, 273 µs per
 * end): about a third of the database CPU of a run. Inside a function the plans are cached per
 * session (every statement here is a primary-key or unique-key lookup, so Postgres settles on the
 * generic plan after its first calls). Measured after: 420 → 560 runs/s, 2.8 → 2.0 ms of database
 * CPU per run (`bench/src/tools/round-trips.ts` and docs/performance.md).
 *
 * `pgqrs_run_transition` applies the same guarded, fenced change as the statement it replaces:
 * only from `p_from`, only while the run's message is leased with `p_lease` (locked FOR SHARE until
 * commit) when `p_fenced`, NOTIFY on `p_channel` when the run ends, and with `p_archive` the run's
 * message moves to the archive in the same statement; if it cannot (its lease is gone), the
 * function raises `P0004` and the run change rolls back with it. No row back means refused (the
 * caller explains why).
 */
export const workflowFunctions: PgqrsMigration = {
  name: '0005_workflow_functions',
  async up(db: Db, schema: string) {
    const t = (name: string) => sql.id(schema, name)
    await sql`create function ${t('pgqrs_run_transition')}(
        p_run bigint, p_to text, p_from text[], p_fenced boolean, p_lease uuid,
        p_set_output boolean, p_output jsonb, p_set_error boolean, p_error jsonb,
        p_set_wake boolean, p_wake timestamptz, p_channel text, p_archive boolean)
      returns table (run ${t('pgqrs_runs')}, workflow_name text)
      language plpgsql
      as $fn$
      declare
        v_run ${t('pgqrs_runs')};
        v_moved bigint;
      begin
        update ${t('pgqrs_runs')} r set
          status = p_to,
          updated_at = now(),
          output = case when p_set_output then p_output else r.output end,
          -- a paused run's pause note is not an error once it runs again
          error = case when p_set_error then p_error when p_to = 'RUNNING' then null else r.error end,
          wake_at = case when p_set_wake then p_wake
            when p_to in ('SLEEPING', 'PAUSED') then r.wake_at else null end,
          started_at = case when p_to = 'RUNNING' then coalesce(r.started_at, now()) else r.started_at end,
          completed_at = case when p_to in ('SUCCESS', 'ERROR', 'CANCELLED') then now()
            else r.completed_at end
        where r.id = p_run and r.status = any(p_from)
          and (not p_fenced or exists (select 1 from ${t('pgqrs_messages')} fm
            where fm.id = r.message_id and fm.lease = p_lease for share))
        returning r.* into v_run;
        if not found then
          return;
        end if;
        if p_archive then
          with moved as (
            delete from ${t('pgqrs_messages')} m
            where m.id = v_run.message_id and m.lease = p_lease
            returning m.*
          )
          insert into ${t('pgqrs_archive')} (${MOVED_COLUMNS}, archived_at)
          select ${MOVED_COLUMNS}, now() from moved;
          get diagnostics v_moved = row_count;
          if v_moved = 0 then
            raise exception 'pgqrs: the lease of message % is not current', v_run.message_id
              using errcode = 'P0004';
          end if;
        end if;
        if p_channel is not null and p_to in ('SUCCESS', 'ERROR', 'CANCELLED') then
          perform pg_notify(p_channel, 'run:' || p_run);
        end if;
        return query select v_run,
          (select w.name from ${t('pgqrs_workflows')} w where w.id = v_run.workflow_id);
      end
      $fn$`.execute(db)
    await sql`create function ${t('pgqrs_step_record')}(
        p_run bigint, p_key text, p_output jsonb, p_fenced boolean, p_lease uuid,
        p_started timestamptz)
      returns text
      language plpgsql
      as $fn$
      declare
        v_status text;
      begin
        insert into ${t('pgqrs_steps')} as s (run_id, step_key, status, output, created_at,
          started_at, completed_at)
        select p_run, p_key, 'SUCCESS', p_output, p_started, p_started, now()
        where not p_fenced or exists (select 1 from ${t('pgqrs_messages')} fm
          where fm.id = (select fr.message_id from ${t('pgqrs_runs')} fr where fr.id = p_run)
            and fm.lease = p_lease for share)
        on conflict (run_id, step_key) do nothing
        returning (select status from ${t('pgqrs_runs')} where id = p_run) into v_status;
        return v_status;
      end
      $fn$`.execute(db)
  },
}
