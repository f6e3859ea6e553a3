// Postgres hot paths. Each is ONE statement (one round trip) and uses the database clock.
import type { QueueMessage } from '@pgqrs/core'
import { sql } from 'kysely'
import { MOVED_COLUMNS, messageColumns } from '../columns.js'
import type { Db, SqlDialect } from '../dialect.js'
import type { PreparedItem } from '../repos/message-input.js'
import { num, type Row, toMessage } from '../row-mappers.js'

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
 * SKIP LOCKED: concurrent consumers never wait on or double-lease a row. One round trip to
 * `pgqrs_dequeue` (migration 0002): it claims up to `batchSize` visible rows in claim order, moves
 * those whose lease ran out with no attempts left to the archive as dead, and leases the rest with
 * a fresh token, returned in claim order.
 */
export async function pgDequeue(
  db: Db,
  d: SqlDialect,
  queue: string,
  batchSize: number,
  leaseMs: number,
  consumerId: number | null,
): Promise<QueueMessage[]> {
  const r = await sql<Row>`select ${messageColumns('postgres', 'm')}
    from ${d.t('pgqrs_dequeue')}(${queue}, ${batchSize}::int, ${leaseMs}::double precision, ${consumerId}::bigint) m`.execute(
    db,
  )
  return r.rows.map((row) => toMessage(row, queue))
}

/**
 * Settles the finished messages whose lease is current (archive, or delete with `remove`), then
 * claims the next batch, in ONE round trip to `pgqrs_settle_dequeue` (migrations 0003, 0006) and one
 * commit. Returns the settled ids and the claimed messages in claim order.
 */
export async function pgSettleDequeue(
  db: Db,
  d: SqlDialect,
  ids: number[],
  leases: string[],
  remove: boolean,
  queue: string,
  batchSize: number,
  leaseMs: number,
  consumerId: number | null,
): Promise<{ settled: Set<number>; messages: QueueMessage[] }> {
  const r = await sql<Row>`select f.settled, ${messageColumns('postgres', 'f')}
    from ${d.t('pgqrs_settle_dequeue')}(${ids}::bigint[], ${leases}::uuid[], ${remove}, ${queue},
      ${batchSize}::int, ${leaseMs}::double precision, ${consumerId}::bigint) f`.execute(db)
  const settled = new Set<number>()
  const messages: QueueMessage[] = []
  for (const row of r.rows) {
    if (row.settled !== null) settled.add(num(row.settled))
    else messages.push(toMessage(row, queue))
  }
  return { settled, messages }
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
