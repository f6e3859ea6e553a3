// Postgres message statements. Each is ONE statement (one round trip) on the database clock; the
// claim, settle and fail rules are functions of migration 0001 (planned once per session).
import { ConflictError, type FailOutcome, type QueueMessage, QueueNotFoundError } from '@pgqrs/core'
import { sql } from 'kysely'
import type { Db, Exec } from '../exec.js'
import type { Claim, FamilyFragments, MessageSql, Refs } from '../family.js'
import type { PreparedItem } from '../repos/message-input.js'
import { num, type Row, toMessage } from '../row-mappers.js'
import { rethrowMissingOneOf, rethrowMissingQueue } from './errors.js'

/** The items as one JSON document for `jsonb_to_recordset` (3 parameters whatever the batch size). */
function itemsJson(items: readonly PreparedItem[]): string {
  const parts = items.map(
    (it, i) =>
      `{"ord":${i},"payload":${it.payloadText},"priority":${it.priority},"delay_ms":${it.delayMs},` +
      `"run_at":${it.runAt ? `"${it.runAt.toISOString()}"` : 'null'},"max_attempts":${it.maxAttempts},` +
      `"dedupe_key":${it.dedupeKey === null ? 'null' : JSON.stringify(it.dedupeKey)},` +
      `"timeout_ms":${it.timeoutMs ?? 'null'}}`,
  )
  return `[${parts.join(',')}]`
}

/** Ids and leases (and outcomes, null when none) as the arrays the statements unnest. */
const arrays = (refs: Refs) => ({
  ids: [...refs.ids],
  leases: [...refs.leases],
  results: refs.outcomes ? [...refs.outcomes.results] : null,
  started: refs.outcomes ? refs.outcomes.started.map((d) => d?.toISOString() ?? null) : null,
})

/** The Postgres {@link MessageSql}; `channel` is the schema's NOTIFY channel (null: none). @internal */
export function postgresMessages(f: FamilyFragments, channel: string | null): MessageSql {
  const cols = f.columns.message

  /**
   * One INSERT for the batch. An item whose dedupe key is active already skips (`ON CONFLICT DO
   * NOTHING` on the partial unique index). One NOTIFY per statement with the queue name as a
   * constant payload, so Postgres folds duplicates within a transaction. Returns the inserted rows
   * ordered by id, which follows the input order (none when the queue is missing).
   */
  async function insertOnce(
    db: Db,
    queue: string,
    items: readonly PreparedItem[],
    producerId: number | null,
  ): Promise<QueueMessage[]> {
    const notify =
      channel === null
        ? sql`select 0 as n`
        : sql`select pg_catalog.pg_notify(${channel}, ${queue}) as n from ins limit 1`
    const r = await sql<Row>`
      with q as (select id from ${f.t('pgqrs_queues')} where name = ${queue}),
      items as (
        select * from pg_catalog.jsonb_to_recordset(${itemsJson(items)}::jsonb) as t(
          ord int, payload jsonb, priority int, delay_ms bigint, run_at timestamptz,
          max_attempts int, dedupe_key text, timeout_ms int)
      ),
      ins as (
        insert into ${f.t('pgqrs_messages')} as m (queue_id, payload, priority, enqueued_at,
          visible_at, max_attempts, dedupe_key, producer_id, timeout_ms)
        select q.id, coalesce(i.payload, 'null'::jsonb), i.priority, now(),
          coalesce(i.run_at, now() + i.delay_ms * interval '1 millisecond'), i.max_attempts,
          i.dedupe_key, ${producerId}::bigint, i.timeout_ms
        from items i cross join q
        order by i.ord
        on conflict (queue_id, dedupe_key) where dedupe_key is not null do nothing
        returning ${cols('m')}
      ),
      n as (${notify})
      select ins.*, (select count(*) from n) as notified from ins order by id`.execute(db)
    return r.rows.map((row) => toMessage(row, queue))
  }

  /**
   * Inserts the batch; items that met an active dedupe key get that key's message. A deduplicated
   * item's message may be settled between the INSERT and the look-up: then the item goes in again
   * (a new message), as if it had come a moment later.
   */
  async function insert(
    db: Db,
    queue: string,
    items: readonly PreparedItem[],
    producerId: number | null,
  ): Promise<QueueMessage[]> {
    let pending = items.map((_, i) => i)
    const out: QueueMessage[] = new Array(items.length)
    for (let round = 0; pending.length > 0; round++) {
      if (round > 5) {
        throw new ConflictError(
          'message',
          queue,
          `enqueue to "${queue}": the messages of its dedupe keys kept changing state; retry the enqueue`,
        )
      }
      const batch = pending.map((i) => items[i]!)
      const inserted = await insertOnce(db, queue, batch, producerId)
      const byKey = new Map<string, QueueMessage>()
      const plain: QueueMessage[] = []
      for (const msg of inserted) {
        if (msg.dedupeKey === null) plain.push(msg)
        else byKey.set(msg.dedupeKey, msg)
      }
      const missingKeys = batch
        .filter((it) => it.dedupeKey !== null && !byKey.has(it.dedupeKey))
        .map((it) => it.dedupeKey!)
      if (missingKeys.length > 0) {
        const r = await sql<Row>`select ${cols('m')} from ${f.t('pgqrs_messages')} m
          where m.queue_id = (select id from ${f.t('pgqrs_queues')} where name = ${queue})
            and m.dedupe_key = any(${missingKeys}::text[])`.execute(db)
        for (const row of r.rows) {
          const msg = toMessage(row, queue)
          byKey.set(msg.dedupeKey!, msg)
        }
      }
      const next: number[] = []
      let k = 0
      pending.forEach((i, pos) => {
        const it = batch[pos]!
        const msg = it.dedupeKey === null ? plain[k++] : byKey.get(it.dedupeKey)
        if (msg) out[i] = msg
        else next.push(i)
      })
      if (next.length > 0 && inserted.length === 0) {
        const q = await sql<Row>`select 1 as ok from ${f.t('pgqrs_queues')}
          where name = ${queue}`.execute(db)
        if (!q.rows[0]) throw new QueueNotFoundError(queue)
      }
      pending = next
    }
    return out
  }

  /** Moves the messages whose lease is current to the archive, with their outcomes; their ids. */
  async function archiveRefs(db: Db, refs: Refs): Promise<Set<number>> {
    const { ids, leases, results, started } = arrays(refs)
    const n = ids.length
    const r = await sql<Row>`
      with x as (select * from rows from (pg_catalog.unnest(${ids}::bigint[]),
        pg_catalog.unnest(${leases}::uuid[]),
        pg_catalog.unnest(${results ?? new Array(n).fill(null)}::jsonb[]),
        pg_catalog.unnest(${started ?? new Array(n).fill(null)}::timestamptz[]))
        as x(id, lease, result, started)),
      moved as (
        delete from ${f.t('pgqrs_messages')} m using x
        where m.id = x.id and m.lease = x.lease
        returning m.*, x.result as x_result, x.started as x_started
      )
      insert into ${f.t('pgqrs_archive')} (id, queue_id, payload, priority, enqueued_at,
        visible_at, attempts, max_attempts, lease, consumer_id, producer_id, dedupe_key,
        last_error, dequeued_at, archived_at, timeout_ms, result, started_at)
      select id, queue_id, payload, priority, enqueued_at, visible_at, attempts, max_attempts,
        lease, consumer_id, producer_id, dedupe_key, last_error, dequeued_at, now(),
        timeout_ms, x_result, x_started
      from moved
      returning id`.execute(db)
    return new Set(r.rows.map((row) => num(row.id)))
  }

  return {
    insert,

    enqueue: (x, queue, items, producerId) =>
      x.write1('messages.enqueue', (db) => insert(db, queue, items, producerId)),

    // SKIP LOCKED in `pgqrs_dequeue`: concurrent consumers never wait on or double-lease a row.
    claim: (x: Exec, queue: string, c: Claim) =>
      x.write1('messages.dequeue', async (db) => {
        const r = await sql<Row>`select ${cols('m')}
          from ${f.t('pgqrs_dequeue')}(${queue}, ${c.batchSize}::int,
            ${c.leaseMs}::double precision, ${c.consumerId}::bigint) m`
          .execute(db)
          .catch(rethrowMissingQueue(queue))
        return r.rows.map((row) => toMessage(row, queue))
      }),

    settleAndClaim: (x, refs, how, queue, c) =>
      x.write1('messages.settleAndDequeue', async (db) => {
        const { ids, leases, results, started } = arrays(refs)
        const n = ids.length
        const r = await sql<Row>`select s.settled, ${cols('s')}
          from ${f.t('pgqrs_settle_dequeue')}(${ids}::bigint[], ${leases}::uuid[],
            ${how === 'delete'}, ${queue}, ${c.batchSize}::int, ${c.leaseMs}::double precision,
            ${c.consumerId}::bigint, ${results ?? new Array(n).fill(null)}::jsonb[],
            ${started ?? new Array(n).fill(null)}::timestamptz[]) s`
          .execute(db)
          .catch(rethrowMissingQueue(queue))
        const settled = new Set<number>()
        const messages: QueueMessage[] = []
        for (const row of r.rows) {
          if (row.settled !== null) settled.add(num(row.settled))
          else messages.push(toMessage(row, queue))
        }
        return { settled, messages }
      }),

    // One transaction: the archive of the finished messages, then the claim across the queues.
    claimQueues: (x, refs, queues, c) =>
      x.write('messages.dequeueQueues', async (db) => {
        const settled = refs.ids.length === 0 ? new Set<number>() : await archiveRefs(db, refs)
        const r = await sql<Row>`select ${cols('m')}, q.name as queue_name
          from ${f.t('pgqrs_dequeue_queues')}(${[...queues]}::text[], ${c.batchSize}::int,
            ${c.leaseMs}::double precision, ${c.consumerId}::bigint) m
          join ${f.t('pgqrs_queues')} q on q.id = m.queue_id`
          .execute(db)
          .catch(rethrowMissingOneOf(queues))
        // the join may reorder: back to claim order (priority, then age, then id)
        const messages = r.rows.map((row) => toMessage(row))
        messages.sort(
          (a, b) =>
            b.priority - a.priority || a.visibleAt.getTime() - b.visibleAt.getTime() || a.id - b.id,
        )
        return { settled, messages }
      }),

    archive: (x, refs) => x.write1('messages.archive', (db) => archiveRefs(db, refs)),

    delete: (x, refs) =>
      x.write1('messages.delete', async (db) => {
        const { ids, leases } = arrays(refs)
        const r = await sql<Row>`
          delete from ${f.t('pgqrs_messages')} m
          using rows from (pg_catalog.unnest(${ids}::bigint[]), pg_catalog.unnest(${leases}::uuid[]))
            as x(id, lease)
          where m.id = x.id and m.lease = x.lease
          returning m.id`.execute(db)
        return new Set(r.rows.map((row) => num(row.id)))
      }),

    fail: (x, id, lease, error, retryDelayMs) =>
      x.write1('messages.fail', async (db) => {
        const r = await sql<Row>`select ${f.t('pgqrs_fail')}(${id}::bigint, ${lease}::uuid,
          ${error}, ${retryDelayMs}::double precision) as outcome`.execute(db)
        return String(r.rows[0]?.outcome) as FailOutcome
      }),
  }
}
