// sqlite-family message statements (SQLite and Turso). Each runs inside one BEGIN IMMEDIATE
// transaction, so SQLite's single writer makes it atomic: no SKIP LOCKED is needed.
import { type QueueMessage, QueueNotFoundError } from '@pgqrs/core'
import { sql } from 'kysely'
import type { Db } from '../exec.js'
import type { Claim, FamilyFragments, MessageSql, Refs } from '../family.js'
import type { PreparedItem } from '../repos/message-input.js'
import { MESSAGE_COLUMNS, num, type Row, toMessage } from '../row-mappers.js'

const CHUNK = 400 // rows per multi-row INSERT: 10 parameters each stays far below SQLite's limit
const COLUMNS = MESSAGE_COLUMNS.join(', ')
const M_COLUMNS = MESSAGE_COLUMNS.map((c) => `m.${c}`).join(', ')

async function queueId(db: Db, queue: string): Promise<number> {
  const r = await sql<Row>`select id from pgqrs_queues where name = ${queue}`.execute(db)
  if (!r.rows[0]) throw new QueueNotFoundError(queue)
  return num(r.rows[0].id)
}

/**
 * `[[id, lease, result, started], …]` as JSON, for `json_each` (one parameter whatever the batch
 * size); result is JSON text or null, started epoch ms or null.
 */
function refsJson(refs: Refs): string {
  const o = refs.outcomes
  return JSON.stringify(
    refs.ids.map((id, k) =>
      o
        ? [id, refs.leases[k], o.results[k] ?? null, o.started[k]?.getTime() ?? null]
        : [id, refs.leases[k]],
    ),
  )
}

/**
 * Moves the messages whose lease is current to the archive at `now`; returns their ids. Inside
 * the caller's write transaction (`runs.end` archives a run's message this way too). @internal
 */
export async function archiveMessages(db: Db, refs: Refs, now: number): Promise<Set<number>> {
  const r = await sql<Row>`insert into pgqrs_archive (${sql.raw(COLUMNS)}, archived_at, result,
      started_at)
    select ${sql.raw(M_COLUMNS)}, ${now}, json_extract(j.value, '$[2]'),
      json_extract(j.value, '$[3]')
    from pgqrs_messages m
    join json_each(${refsJson(refs)}) j
      on m.id = json_extract(j.value, '$[0]') and m.lease = json_extract(j.value, '$[1]')
    returning id`.execute(db)
  const moved = r.rows.map((row) => num(row.id))
  if (moved.length > 0)
    await sql`delete from pgqrs_messages where id in (${sql.join(moved)})`.execute(db)
  return new Set(moved)
}

/** The sqlite-family {@link MessageSql}. @internal */
export function sqliteMessages(f: FamilyFragments): MessageSql {
  const cols = f.columns.message('')

  /** Inserts in input order; a dedupe key active already (or used earlier in the batch) gets that message. */
  async function insert(
    db: Db,
    queue: string,
    items: readonly PreparedItem[],
    producerId: number | null,
  ): Promise<QueueMessage[]> {
    const qid = await queueId(db, queue)
    const out: QueueMessage[] = new Array(items.length)
    const now = f.clock()
    let run: number[] = []
    const flush = async () => {
      for (let start = 0; start < run.length; start += CHUNK) {
        const part = run.slice(start, start + CHUNK)
        const values = part.map((i) => {
          const it = items[i]!
          const visible = it.runAt ? it.runAt.getTime() : now + it.delayMs
          return sql`(${qid}, ${it.payloadText}, ${it.priority}, ${now}, ${visible}, ${it.maxAttempts}, ${it.dedupeKey}, ${producerId}, 0, ${it.timeoutMs})`
        })
        const r = await sql<Row>`insert into pgqrs_messages
          (queue_id, payload, priority, enqueued_at, visible_at, max_attempts, dedupe_key, producer_id, attempts, timeout_ms)
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
        where queue_id = ${qid} and dedupe_key = ${key}`.execute(db)
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
   * Claims up to `batchSize` visible rows in claim order: rows whose lease ran out with no attempts
   * left move to the archive as dead (the archive trigger ends their runs), the rest are leased
   * with a fresh random token.
   */
  async function claim(db: Db, queue: string, c: Claim): Promise<QueueMessage[]> {
    const qid = await queueId(db, queue)
    return claimIds(db, [qid], c, (row) => toMessage(row, queue))
  }

  /**
   * The claim over queue ids `qids` (one statement picks by priority, then age, then id across
   * them all); `map` turns a leased row into a message.
   */
  async function claimIds(
    db: Db,
    qids: readonly number[],
    c: Claim,
    map: (row: Row) => QueueMessage,
  ): Promise<QueueMessage[]> {
    const now = f.clock()
    const where =
      qids.length === 1 ? sql`queue_id = ${qids[0]}` : sql`queue_id in (${sql.join(qids)})`
    const picked = await sql<Row>`select id, attempts, max_attempts from pgqrs_messages
      where ${where} and visible_at <= ${now}
      order by priority desc, visible_at, id limit ${c.batchSize}`.execute(db)
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
      await sql`insert into pgqrs_archive (${sql.raw(COLUMNS)}, dead_at)
        select id, queue_id, payload, priority, enqueued_at, visible_at, attempts, max_attempts, null,
          consumer_id, producer_id, dedupe_key,
          'lease expired on attempt ' || attempts || ' of ' || max_attempts
            || coalesce(' (last error: ' || last_error || ')', ''),
          dequeued_at, timeout_ms, ${now}
        from pgqrs_messages where id in (${list})`.execute(db)
      await sql`delete from pgqrs_messages where id in (${list})`.execute(db)
    }
    if (live.length === 0) return []
    const r = await sql<Row>`update pgqrs_messages set
        visible_at = ${now + c.leaseMs},
        attempts = attempts + 1,
        lease = lower(hex(randomblob(16))),
        consumer_id = ${c.consumerId},
        dequeued_at = coalesce(dequeued_at, ${now})
      where id in (${sql.join(live)})
      returning ${cols}`.execute(db)
    return r.rows.map(map).sort((a, b) => order.get(a.id)! - order.get(b.id)!)
  }

  /** Archives `refs`, then claims across `queues`; a missing queue settles nothing. */
  async function claimQueues(db: Db, refs: Refs, queues: readonly string[], c: Claim) {
    const names = new Map<number, string>()
    for (const q of queues) names.set(await queueId(db, q), q)
    const settled =
      refs.ids.length === 0 ? new Set<number>() : await archiveMessages(db, refs, f.clock())
    const messages = await claimIds(db, [...names.keys()], c, (row) =>
      toMessage(row, names.get(num(row.queue_id))),
    )
    return { settled, messages }
  }

  /** Deletes the messages whose lease is current; returns their ids. */
  async function remove(db: Db, refs: Refs): Promise<Set<number>> {
    const r = await sql<Row>`delete from pgqrs_messages
      where id in (select json_extract(j.value, '$[0]') from json_each(${refsJson(refs)}) j
                   where json_extract(j.value, '$[1]') = pgqrs_messages.lease
                     and json_extract(j.value, '$[0]') = pgqrs_messages.id)
      returning id`.execute(db)
    return new Set(r.rows.map((row) => num(row.id)))
  }

  return {
    insert,
    enqueue: (x, queue, items, producerId) =>
      x.write('messages.enqueue', (db) => insert(db, queue, items, producerId)),
    claim: (x, queue, c) => x.write('messages.dequeue', (db) => claim(db, queue, c)),
    claimQueues: (x, refs, queues, c) =>
      x.write('messages.dequeueQueues', (db) => claimQueues(db, refs, queues, c)),
    settleAndClaim: (x, refs, how, queue, c) =>
      x.write('messages.settleAndDequeue', async (db) => {
        await queueId(db, queue) // a missing queue settles nothing
        const settled =
          refs.ids.length === 0
            ? new Set<number>()
            : how === 'delete'
              ? await remove(db, refs)
              : await archiveMessages(db, refs, f.clock())
        return { settled, messages: await claim(db, queue, c) }
      }),
    archive: (x, refs) => x.write('messages.archive', (db) => archiveMessages(db, refs, f.clock())),
    delete: (x, refs) => x.write('messages.delete', (db) => remove(db, refs)),
    fail: (x, id, lease, error, retryDelayMs) =>
      x.write('messages.fail', async (db) => {
        const r = await sql<Row>`select attempts, max_attempts from pgqrs_messages
          where id = ${id} and lease = ${lease}`.execute(db)
        const row = r.rows[0]
        if (!row) return 'lost'
        if (num(row.attempts) >= num(row.max_attempts)) {
          // dead: the archive trigger ends its workflow run
          await sql`insert into pgqrs_archive (${sql.raw(COLUMNS)}, dead_at)
            select id, queue_id, payload, priority, enqueued_at, visible_at, attempts, max_attempts,
              null, consumer_id, producer_id, dedupe_key, ${error}, dequeued_at, timeout_ms,
              ${f.clock()}
            from pgqrs_messages where id = ${id}`.execute(db)
          await sql`delete from pgqrs_messages where id = ${id}`.execute(db)
          return 'dead'
        }
        await sql`update pgqrs_messages set visible_at = ${f.clock() + retryDelayMs}, lease = null,
            last_error = ${error}
          where id = ${id}`.execute(db)
        return 'retried'
      }),
  }
}
