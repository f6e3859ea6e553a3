import { sql } from 'kysely'
import type { Db } from '../dialect.js'
import type { PgqrsMigration } from './types.js'

/**
 * 0002_claim_function (Postgres): the claim as a PL/pgSQL function, for two measured reasons
 * (docs/benchmarks.md):
 * - its statements are planned once per session and cached (an unnamed statement was planned on
 *   every claim: ~0.9 ms of planning for ~0.7 ms of execution at batch 1);
 * - `enable_sort`/`enable_bitmapscan` are off inside it, so the claim always walks
 *   `pgqrs_messages_claim` in order and stops after `p_batch` rows, even when the table has no
 *   statistics yet (after a burst the planner otherwise chose a bitmap scan of every visible row
 *   plus a sort: O(backlog) per claim).
 * The rare "lease ran out with no attempts left" case (dead letters) costs nothing on the hot path.
 */
export const claimFunction: PgqrsMigration = {
  name: '0002_claim_function',
  async up(db: Db, schema: string) {
    const t = (name: string) => sql.id(schema, name)
    await sql`create function ${t('pgqrs_dequeue')}(
        p_queue text, p_batch integer, p_lease_ms double precision, p_consumer bigint)
      returns setof ${t('pgqrs_messages')}
      language plpgsql
      set enable_sort = off
      set enable_bitmapscan = off
      as $fn$
      declare
        v_queue bigint;
        v_live bigint[];
        v_dead bigint[];
      begin
        select id into v_queue from ${t('pgqrs_queues')} where name = p_queue;
        if v_queue is null then
          return;
        end if;
        -- SKIP LOCKED: concurrent consumers never wait on or double-lease a row
        select array_agg(c.id order by c.ord) filter (where c.attempts < c.max_attempts),
               array_agg(c.id) filter (where c.attempts >= c.max_attempts)
          into v_live, v_dead
          from (
            select id, attempts, max_attempts, row_number() over () as ord
            from (
              select id, attempts, max_attempts from ${t('pgqrs_messages')}
              where queue_id = v_queue and visible_at <= now()
              order by priority desc, visible_at, id
              limit p_batch
              for update skip locked
            ) locked
          ) c;
        if v_dead is not null then
          -- their lease ran out on the last attempt: dead, and so is any workflow run they carry
          with dead as (
            delete from ${t('pgqrs_messages')} where id = any(v_dead) returning *
          ), buried as (
            insert into ${t('pgqrs_archive')} (id, queue_id, payload, priority, enqueued_at, visible_at,
              attempts, max_attempts, lease, consumer_id, producer_id, dedupe_key, last_error,
              dequeued_at, dead_at)
            select id, queue_id, payload, priority, enqueued_at, visible_at, attempts, max_attempts,
              null, consumer_id, producer_id, dedupe_key,
              'lease expired on attempt ' || attempts || ' of ' || max_attempts
                || coalesce(' (last error: ' || last_error || ')', ''),
              dequeued_at, now()
            from dead
            returning id
          )
          update ${t('pgqrs_runs')} r set status = 'ERROR', updated_at = now(), completed_at = now(),
            error = jsonb_build_object('name', 'DeadLetter', 'transient', false,
              'message', 'the run''s message was dead-lettered: its lease expired on all '
                || dead.max_attempts || ' attempts (the worker crashed or hung every time)')
          from dead
          where r.message_id = dead.id and r.status not in ('SUCCESS', 'ERROR', 'CANCELLED')
            and exists (select 1 from buried);
        end if;
        if v_live is null then
          return;
        end if;
        return query
          with leased as (
            update ${t('pgqrs_messages')} m set
              visible_at = now() + p_lease_ms * interval '1 millisecond',
              attempts = m.attempts + 1,
              lease = gen_random_uuid(),
              consumer_id = p_consumer,
              dequeued_at = coalesce(m.dequeued_at, now())
            where m.id = any(v_live)
            returning m.*
          )
          select l.* from leased l
          join unnest(v_live) with ordinality as x(id, ord) on x.id = l.id
          order by x.ord;
      end
      $fn$`.execute(db)
  },
}
