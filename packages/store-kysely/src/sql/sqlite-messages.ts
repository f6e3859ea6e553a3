// sqlite-family hot paths (SQLite and Turso). They run inside one BEGIN IMMEDIATE transaction,
// so SQLite's single writer makes each of them atomic: no SKIP LOCKED is needed.
import type { QueueMessage } from '@pgqrs/core'
import { sql } from 'kysely'
import { MOVED_COLUMNS, messageColumns } from '../columns.js'
import type { Db, SqlDialect } from '../dialect.js'
import type { PreparedItem } from '../repos/message-input.js'
import { num, type Row, toMessage } from '../row-mappers.js'

const CHUNK = 400 // rows per multi-row INSERT: 9 parameters each stays far below SQLite's limit

/**
 * Inserts the items in input order; an item whose dedupe key is active already (or was used by an
 * earlier item of the batch) gets the existing message. Must run inside a write transaction.
 */
export async function sqliteInsertMessages(
  db: Db,
  d: SqlDialect,
  queueId: number,
  queue: string,
  items: readonly PreparedItem[],
  producerId: number | null,
): Promise<QueueMessage[]> {
  const out: QueueMessage[] = new Array(items.length)
  const now = d.clock()
  const cols = messageColumns('sqlite', '')
  let run: number[] = []
  const flush = async () => {
    for (let start = 0; start < run.length; start += CHUNK) {
      const part = run.slice(start, start + CHUNK)
      const values = part.map((i) => {
        const it = items[i]!
        const visible = it.runAt ? it.runAt.getTime() : now + it.delayMs
        return sql`(${queueId}, ${it.payloadText}, ${it.priority}, ${now}, ${visible}, ${it.maxAttempts}, ${it.dedupeKey}, ${producerId}, 0)`
      })
      const r = await sql<Row>`insert into pgqrs_messages
        (queue_id, payload, priority, enqueued_at, visible_at, max_attempts, dedupe_key, producer_id, attempts)
        values ${sql.join(values)} returning ${cols}`.execute(db)
      const rows = r.rows.map((row) => toMessage(row, queue)).sort((a, b) => a.id - b.id)
      part.forEach((i, k) => {
        out[i] = rows[k]!
      })
    }
    run = []
  }
  for (let i = 0; i < items.length; i++) {
    const key = items[i]!.dedupeKey
    if (key === null) {
      run.push(i)
      continue
    }
    await flush()
    const existing = await sql<Row>`select ${cols} from pgqrs_messages
      where queue_id = ${queueId} and dedupe_key = ${key}`.execute(db)
    if (existing.rows[0]) {
      out[i] = toMessage(existing.rows[0], queue)
      continue
    }
    run.push(i)
    await flush()
  }
  await flush()
  return out
}

/**
 * Claims up to `batchSize` visible rows in claim order; rows whose lease ran out with no attempts
 * left are moved to the archive as dead, the rest are leased with a fresh random token.
 */
export async function sqliteDequeue(
  db: Db,
  d: SqlDialect,
  queueId: number,
  queue: string,
  batchSize: number,
  leaseMs: number,
  consumerId: number | null,
): Promise<QueueMessage[]> {
  const now = d.clock()
  const picked = await sql<Row>`select id, attempts, max_attempts from pgqrs_messages
    where queue_id = ${queueId} and visible_at <= ${now}
    order by priority desc, visible_at, id limit ${batchSize}`.execute(db)
  if (picked.rows.length === 0) return []
  const order = new Map<number, number>()
  const live: number[] = []
  const dead: number[] = []
  picked.rows.forEach((row, k) => {
    const id = num(row.id)
    order.set(id, k)
    ;(num(row.attempts) >= num(row.max_attempts) ? dead : live).push(id)
  })
  if (dead.length > 0) {
    const list = sql.join(dead)
    await sql`insert into pgqrs_archive (${MOVED_COLUMNS}, dead_at)
      select id, queue_id, payload, priority, enqueued_at, visible_at, attempts, max_attempts, null,
        consumer_id, producer_id, dedupe_key,
        'lease expired on attempt ' || attempts || ' of ' || max_attempts
          || coalesce(' (last error: ' || last_error || ')', ''),
        dequeued_at, ${now}
      from pgqrs_messages where id in (${list})`.execute(db)
    await sql`delete from pgqrs_messages where id in (${list})`.execute(db)
    await failRunsOfDeadMessages(db, dead, now)
  }
  if (live.length === 0) return []
  const r = await sql<Row>`update pgqrs_messages set
      visible_at = ${now + leaseMs},
      attempts = attempts + 1,
      lease = lower(hex(randomblob(16))),
      consumer_id = ${consumerId},
      dequeued_at = coalesce(dequeued_at, ${now})
    where id in (${sql.join(live)})
    returning ${messageColumns('sqlite', '')}`.execute(db)
  return r.rows
    .map((row) => toMessage(row, queue))
    .sort((a, b) => order.get(a.id)! - order.get(b.id)!)
}

function refsJson(ids: number[], leases: string[]): string {
  return JSON.stringify(ids.map((id, k) => [id, leases[k]]))
}

/** Moves the messages whose lease is current to the archive; returns their ids. In a write transaction. */
export async function sqliteMoveToArchive(
  db: Db,
  d: SqlDialect,
  ids: number[],
  leases: string[],
): Promise<Set<number>> {
  const now = d.clock()
  const r = await sql<Row>`insert into pgqrs_archive (${MOVED_COLUMNS}, archived_at)
    select ${sql.raw(['id', 'queue_id', 'payload', 'priority', 'enqueued_at', 'visible_at', 'attempts', 'max_attempts', 'lease', 'consumer_id', 'producer_id', 'dedupe_key', 'last_error', 'dequeued_at'].map((c) => `m.${c}`).join(', '))}, ${now}
    from pgqrs_messages m
    join json_each(${refsJson(ids, leases)}) j
      on m.id = json_extract(j.value, '$[0]') and m.lease = json_extract(j.value, '$[1]')
    returning id`.execute(db)
  const moved = r.rows.map((row) => num(row.id))
  if (moved.length > 0)
    await sql`delete from pgqrs_messages where id in (${sql.join(moved)})`.execute(db)
  return new Set(moved)
}

/** Deletes the messages whose lease is current; returns their ids. In a write transaction. */
export async function sqliteDelete(db: Db, ids: number[], leases: string[]): Promise<Set<number>> {
  const r = await sql<Row>`delete from pgqrs_messages
    where id in (select json_extract(value, '$[0]') from json_each(${refsJson(ids, leases)}) j
                 where json_extract(j.value, '$[1]') = pgqrs_messages.lease
                   and json_extract(j.value, '$[0]') = pgqrs_messages.id)
    returning id`.execute(db)
  return new Set(r.rows.map((row) => num(row.id)))
}

/**
 * Marks ERROR the unfinished runs whose message just died, so that no run stays RUNNING forever.
 * In the caller's write transaction. @internal
 */
export async function failRunsOfDeadMessages(
  db: Db,
  messageIds: number[],
  now: number,
): Promise<void> {
  const error = JSON.stringify({
    name: 'DeadLetter',
    transient: false,
    message:
      "the run's message was dead-lettered: its lease expired on every attempt (the worker crashed or hung every time)",
  })
  await sql`update pgqrs_runs set status = 'ERROR', error = ${error}, updated_at = ${now}, completed_at = ${now}
    where message_id in (${sql.join(messageIds)}) and status not in ('SUCCESS', 'ERROR', 'CANCELLED')`.execute(
    db,
  )
}
