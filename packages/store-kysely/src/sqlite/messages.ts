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

/** A queue's id and concurrency limits (null: none). */
interface QueueRow {
  readonly id: number
  readonly max: number | null
  readonly perKey: number | null
  readonly rate: { readonly max: number; readonly perMs: number; readonly perKey: boolean } | null
}

async function queueRow(db: Db, queue: string): Promise<QueueRow> {
  const r = await sql<Row>`select id, max_concurrency, concurrency_per_key, rate_max, rate_per_ms,
      rate_per_key
    from pgqrs_queues where name = ${queue}`.execute(db)
  const row = r.rows[0]
  if (!row) throw new QueueNotFoundError(queue)
  const opt = (v: unknown) => (v === null || v === undefined ? null : num(v))
  const rateMax = opt(row.rate_max)
  return {
    id: num(row.id),
    max: opt(row.max_concurrency),
    perKey: opt(row.concurrency_per_key),
    rate:
      rateMax === null
        ? null
        : { max: rateMax, perMs: num(row.rate_per_ms), perKey: num(row.rate_per_key) === 1 },
  }
}

const limited = (q: QueueRow) => q.max !== null || q.perKey !== null || q.rate !== null

/** Visible rows a limited claim walks at most, skipping the keys at their limit. */
const LIMITED_SCAN = 1000

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
    const q = await queueRow(db, queue)
    const map = (row: Row) => toMessage(row, queue)
    // a queue without limits takes the claim it always took
    return limited(q) ? claimLimited(db, q, c, map) : claimIds(db, [q.id], c, map)
  }

  /**
   * The claim of a queue with limits, in the claim's write transaction (the single writer makes
   * the counts below true until commit): counts the live leases of the queue (and per key; an
   * expired lease is not live) and its recent claims (rate limit), then walks at most {@link LIMITED_SCAN} visible rows in claim order
   * and leases those that fit, skipping rows whose key is at its limit.
   */
  async function claimLimited(
    db: Db,
    q: QueueRow,
    c: Claim,
    map: (row: Row) => QueueMessage,
  ): Promise<QueueMessage[]> {
    const now = f.clock()
    let budget = c.batchSize
    if (q.max !== null) {
      const live = await sql<Row>`select count(*) as n from pgqrs_messages
        where queue_id = ${q.id} and lease is not null and visible_at > ${now}`.execute(db)
      budget = Math.min(budget, q.max - num(live.rows[0]!.n))
    }
    // Rate limits are evenly spaced: one claim per rate key every perMs / max ms, so no window of
    // perMs holds more than max claims; `full` holds the keys claimed more recently than that.
    const full = new Set<string>()
    if (q.rate !== null) {
      await sql`delete from pgqrs_rate_claims
        where queue_id = ${q.id} and claimed_at <= ${now - q.rate.perMs}`.execute(db)
      const r = await sql<Row>`select distinct rate_key as k from pgqrs_rate_claims
        where queue_id = ${q.id} and claimed_at > ${now - q.rate.perMs / q.rate.max}`.execute(db)
      for (const row of r.rows) full.add(String(row.k))
      if (!q.rate.perKey) budget = full.has('') ? 0 : Math.min(budget, 1)
    }
    if (budget <= 0) return []
    const counts = new Map<string, number>()
    if (q.perKey !== null) {
      const r = await sql<Row>`select k.concurrency_key as k, count(*) as n
        from pgqrs_messages m join pgqrs_message_keys k on k.message_id = m.id
        where m.queue_id = ${q.id} and m.lease is not null and m.visible_at > ${now}
        group by k.concurrency_key`.execute(db)
      for (const row of r.rows) counts.set(String(row.k), num(row.n))
    }
    const candidates = await sql<Row>`select m.id, m.attempts, m.max_attempts,
        k.concurrency_key as ck
      from pgqrs_messages m left join pgqrs_message_keys k on k.message_id = m.id
      where m.queue_id = ${q.id} and m.visible_at <= ${now}
      order by m.priority desc, m.visible_at, m.id limit ${LIMITED_SCAN}`.execute(db)
    const picked: Row[] = []
    const rateKeys: string[] = []
    let live = 0
    for (const row of candidates.rows) {
      if (num(row.attempts) >= num(row.max_attempts)) {
        picked.push(row) // dead-lettered below: takes no slot
        continue
      }
      const ck = row.ck === null || row.ck === undefined ? null : String(row.ck)
      if (q.perKey !== null && ck !== null && (counts.get(ck) ?? 0) >= q.perKey) continue
      const rk = q.rate?.perKey ? (ck ?? '') : ''
      if (q.rate?.perKey && full.has(rk)) continue
      if (ck !== null) counts.set(ck, (counts.get(ck) ?? 0) + 1)
      full.add(rk)
      picked.push(row)
      rateKeys.push(rk)
      if (++live >= budget) break
    }
    const leased = await leasePicked(db, picked, c, map, now)
    if (q.rate !== null && rateKeys.length > 0) {
      // every live picked row was leased: the claim holds the single writer
      const rows = rateKeys.map((k) => sql`(${q.id}, ${k}, ${now})`)
      await sql`insert into pgqrs_rate_claims (queue_id, rate_key, claimed_at)
        values ${sql.join(rows)}`.execute(db)
    }
    return leased
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
    return leasePicked(db, picked.rows, c, map, now)
  }

  /**
   * Leases the picked rows (in that order) with a fresh random token each; rows whose lease ran
   * out with no attempts left move to the archive as dead instead.
   */
  async function leasePicked(
    db: Db,
    picked: readonly Row[],
    c: Claim,
    map: (row: Row) => QueueMessage,
    now: number,
  ): Promise<QueueMessage[]> {
    if (picked.length === 0) return []
    const order = new Map<number, number>()
    const live: number[] = []
    const dead: number[] = []
    picked.forEach((row, k) => {
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
    const rows: QueueRow[] = []
    for (const q of queues) {
      const row = await queueRow(db, q)
      rows.push(row)
      names.set(row.id, q)
    }
    const settled =
      refs.ids.length === 0 ? new Set<number>() : await archiveMessages(db, refs, f.clock())
    if (rows.some(limited)) {
      // one of them has limits: each queue in turn (limits enforced) until the batch is full
      const messages: QueueMessage[] = []
      for (const [k, q] of rows.entries()) {
        const left = { ...c, batchSize: c.batchSize - messages.length }
        if (left.batchSize <= 0) break
        const map = (row: Row) => toMessage(row, queues[k])
        messages.push(
          ...(limited(q)
            ? await claimLimited(db, q, left, map)
            : await claimIds(db, [q.id], left, map)),
        )
      }
      return { settled, messages }
    }
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
