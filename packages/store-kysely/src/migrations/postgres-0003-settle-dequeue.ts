import { sql } from 'kysely'
import type { Db } from '../dialect.js'
import type { PgqrsMigration } from './types.js'

/**
 * 0003_settle_dequeue (Postgres): `pgqrs_settle_dequeue` settles the messages a worker finished
 * (archives them, or deletes them with `p_delete`) and claims its next batch in ONE round trip and
 * ONE commit, where separate calls cost two of each (docs/benchmarks.md: at batch 50 a worker spent
 * half its round trips and commits on archives). The settle runs first, as its own statement, then
 * `pgqrs_dequeue` (migration 0002) claims: the claim never meets a row this call is settling. Rows
 * come back as `(settled, m)`: one row per settled id (`m` null), then the claimed messages in claim
 * order (`settled` null). A missing queue raises P0002 (no_data_found) before anything changes. Its
 * statements are planned once per session, like the claim's. It also drops
 * `pgqrs_messages_consumer`, an index nothing read.
 */
export const settleDequeueFunction: PgqrsMigration = {
  name: '0003_settle_dequeue',
  async up(db: Db, schema: string) {
    const t = (name: string) => sql.id(schema, name)
    // No query looks messages up by holder, and a claim that sets consumer_id paid one more index
    // insert per message for it (measured in docs/benchmarks.md, database CPU per message).
    await sql`drop index if exists ${t('pgqrs_messages_consumer')}`.execute(db)
    await sql`create function ${t('pgqrs_settle_dequeue')}(
        p_ids bigint[], p_leases uuid[], p_delete boolean,
        p_queue text, p_batch integer, p_lease_ms double precision, p_consumer bigint)
      returns table (settled bigint, m ${t('pgqrs_messages')})
      language plpgsql
      as $fn$
      begin
        -- a missing queue settles nothing: the caller gets QueueNotFoundError
        perform 1 from ${t('pgqrs_queues')} where name = p_queue;
        if not found then
          raise exception 'pgqrs: queue % does not exist', p_queue using errcode = 'P0002';
        end if;
        if cardinality(p_ids) > 0 and p_delete then
          return query
            delete from ${t('pgqrs_messages')} t
            using unnest(p_ids, p_leases) as x(id, lease)
            where t.id = x.id and t.lease = x.lease
            returning t.id, null::${t('pgqrs_messages')};
        elsif cardinality(p_ids) > 0 then
          return query
            with x as (select * from unnest(p_ids, p_leases) as x(id, lease)),
            moved as (
              delete from ${t('pgqrs_messages')} t using x
              where t.id = x.id and t.lease = x.lease
              returning t.*
            ),
            ins as (
              insert into ${t('pgqrs_archive')} (id, queue_id, payload, priority, enqueued_at,
                visible_at, attempts, max_attempts, lease, consumer_id, producer_id, dedupe_key,
                last_error, dequeued_at, archived_at)
              select mv.id, mv.queue_id, mv.payload, mv.priority, mv.enqueued_at, mv.visible_at,
                mv.attempts, mv.max_attempts, mv.lease, mv.consumer_id, mv.producer_id,
                mv.dedupe_key, mv.last_error, mv.dequeued_at, now()
              from moved mv
              returning id
            )
            select ins.id, null::${t('pgqrs_messages')} from ins;
        end if;
        if p_batch > 0 then
          return query
            select null::bigint, d
            from ${t('pgqrs_dequeue')}(p_queue, p_batch, p_lease_ms, p_consumer) d;
        end if;
      end
      $fn$`.execute(db)
  },
}
