// Postgres hot paths. Each is ONE statement (one round trip) and uses the database clock.
import type { QueueMessage } from '@pgqrs/core'
import { sql } from 'kysely'
import { MOVED_COLUMNS, messageColumns } from '../columns.js'
import type { Db, SqlDialect } from '../dialect.js'
import type { PreparedItem } from '../repos/message-input.js'
import { date, num, type Row, toMessage } from '../row-mappers.js'

/** The items as one JSON document for `jsonb_to_recordset` (3 parameters whatever the batch size). */
function itemsJson(items: readonly PreparedItem[]): string {
  const parts = items.map(
    (it, i) =>
      `{"ord":${i},"payload":${it.payloadText},"priority":${it.priority},"delay_ms":${it.delayMs},` +
      `"run_at":${it.runAt ? `"${it.runAt.toISOString()}"` : 'null'},"max_attempts":${it.maxAttempts},` +
      `"dedupe_key":${it.dedupeKey === null ? 'null' : JSON.stringify(it.dedupeKey)}}`,
  )
  return `[${parts.join(',')}]`
}

/**
 * Inserts a batch in one statement. A dedupe key that is active already makes its row skip
 * (`ON CONFLICT DO NOTHING` on the partial unique index). One NOTIFY per statement with the
 * queue name as a constant payload, so Postgres folds duplicates within a transaction.
 * Returns the inserted rows ordered by id, which follows the input order (none when the queue is missing).
 */
export async function pgInsertMessages(
  db: Db,
  d: SqlDialect,
  queue: string,
  items: readonly PreparedItem[],
  producerId: number | null,
  channel: string | null,
): Promise<QueueMessage[]> {
  const m = d.t('pgqrs_messages')
  const notify =
    channel === null
      ? sql`select 0 as n`
      : sql`select pg_notify(${channel}, ${queue}) as n from ins limit 1`
  const r = await sql<Row>`
    with q as (select id from ${d.t('pgqrs_queues')} where name = ${queue}),
    items as (
      select * from jsonb_to_recordset(${itemsJson(items)}::jsonb) as t(
        ord int, payload jsonb, priority int, delay_ms bigint, run_at timestamptz,
        max_attempts int, dedupe_key text)
    ),
    ins as (
      insert into ${m} as m (queue_id, payload, priority, enqueued_at, visible_at, max_attempts, dedupe_key, producer_id)
      select q.id, coalesce(i.payload, 'null'::jsonb), i.priority, now(),
        coalesce(i.run_at, now() + i.delay_ms * interval '1 millisecond'), i.max_attempts, i.dedupe_key, ${producerId}::bigint
      from items i cross join q
      order by i.ord
      on conflict (queue_id, dedupe_key) where dedupe_key is not null do nothing
      returning ${messageColumns('postgres', 'm')}
    ),
    n as (${notify})
    select ins.*, (select count(*) from n) as notified from ins order by id`.execute(db)
  return r.rows.map((row) => toMessage(row, queue))
}

/**
 * SKIP LOCKED: concurrent consumers never wait on or double-lease a row. One statement claims up
 * to `batchSize` visible rows in claim order, moves those whose lease ran out with no attempts left
 * to the archive as dead, and leases the rest with a fresh token.
 */
export async function pgDequeue(
  db: Db,
  d: SqlDialect,
  queue: string,
  batchSize: number,
  leaseMs: number,
  consumerId: number | null,
): Promise<QueueMessage[]> {
  const m = d.t('pgqrs_messages')
  const r = await sql<Row>`
    with c as (
      select id, attempts, max_attempts, priority, visible_at from ${m}
      where queue_id = (select id from ${d.t('pgqrs_queues')} where name = ${queue})
        and visible_at <= now()
      order by priority desc, visible_at, id
      limit ${batchSize}
      for update skip locked
    ),
    dead as (
      delete from ${m} m using c
      where m.id = c.id and c.attempts >= c.max_attempts
      returning m.*
    ),
    buried as (
      insert into ${d.t('pgqrs_archive')} (${MOVED_COLUMNS}, dead_at)
      select id, queue_id, payload, priority, enqueued_at, visible_at, attempts, max_attempts, null,
        consumer_id, producer_id, dedupe_key,
        'lease expired on attempt ' || attempts || ' of ' || max_attempts
          || coalesce(' (last error: ' || last_error || ')', ''),
        dequeued_at, now()
      from dead
      returning id
    ),
    -- A workflow whose message died this way would otherwise stay RUNNING forever.
    orphaned as (
      update ${d.t('pgqrs_runs')} r set status = 'ERROR', updated_at = now(), completed_at = now(),
        error = jsonb_build_object('name', 'DeadLetter', 'transient', false,
          'message', 'the run''s message was dead-lettered: its lease expired on all '
            || dead.max_attempts || ' attempts (the worker crashed or hung every time)')
      from dead
      where r.message_id = dead.id and r.status not in ('SUCCESS', 'ERROR', 'CANCELLED')
      returning r.id
    )
    update ${m} m set
      visible_at = now() + ${leaseMs}::double precision * interval '1 millisecond',
      attempts = m.attempts + 1,
      lease = gen_random_uuid(),
      consumer_id = ${consumerId}::bigint,
      dequeued_at = coalesce(m.dequeued_at, now())
    from c
    where m.id = c.id and c.attempts < c.max_attempts
    returning ${messageColumns('postgres', 'm')}, c.visible_at as claimed_visible_at,
      (select count(*) from buried) as buried,
      (select count(*) from orphaned) as orphaned`.execute(db)
  // RETURNING has no order: restore the claim order (priority DESC, visible_at, id).
  const claimedAt = new Map(
    r.rows.map((row) => [num(row.id), date(row.claimed_visible_at).getTime()]),
  )
  return r.rows
    .map((row) => toMessage(row, queue))
    .sort(
      (a, b) =>
        b.priority - a.priority || claimedAt.get(a.id)! - claimedAt.get(b.id)! || a.id - b.id,
    )
}

/** Moves the messages whose lease is current to the archive, in one statement; returns their ids. */
export async function pgMoveToArchive(
  db: Db,
  d: SqlDialect,
  ids: number[],
  leases: string[],
): Promise<Set<number>> {
  const r = await sql<Row>`
    with x as (select * from unnest(${ids}::bigint[], ${leases}::uuid[]) as x(id, lease)),
    moved as (
      delete from ${d.t('pgqrs_messages')} m using x
      where m.id = x.id and m.lease = x.lease
      returning m.*
    )
    insert into ${d.t('pgqrs_archive')} (${MOVED_COLUMNS}, archived_at)
    select ${MOVED_COLUMNS}, now() from moved
    returning id`.execute(db)
  return new Set(r.rows.map((row) => num(row.id)))
}

/** Deletes the messages whose lease is current, in one statement; returns their ids. */
export async function pgDelete(
  db: Db,
  d: SqlDialect,
  ids: number[],
  leases: string[],
): Promise<Set<number>> {
  const r = await sql<Row>`
    delete from ${d.t('pgqrs_messages')} m
    using unnest(${ids}::bigint[], ${leases}::uuid[]) as x(id, lease)
    where m.id = x.id and m.lease = x.lease
    returning m.id`.execute(db)
  return new Set(r.rows.map((row) => num(row.id)))
}
