import {
  type ArchiveOptions,
  type DequeueOptions,
  type DequeueQueuesOptions,
  type EnqueueItem,
  type FailOutcome,
  type HandlerMetrics,
  type LeaseRef,
  type ListMessagesOptions,
  type MessageRepository,
  type QueueMessage,
  type ResolvedConfig,
  type SettleAndDequeueOptions,
  storableText,
  ValidationError,
  validateInt,
  validateName,
  MAX_DELAY_MS,
} from '@pgqrs/core'
import { sql } from 'kysely'
import type { Exec } from '../exec.js'
import { date, MESSAGE_COLUMNS, num, type Row, toMessage } from '../row-mappers.js'
import {
  checkDequeue,
  positional,
  prepareItems,
  prepareOutcomes,
  usableRefs,
} from './message-input.js'

const STATES = ['active', 'pending', 'leased', 'delayed', 'archived', 'dead'] as const
const INT32 = 2_147_483_647

/**
 * Messages and leases. Input is validated here; the statements that differ between families (the
 * claim, settling, failing) come from the family's `MessageSql`, the rest is SQL both share.
 * @internal
 */
export class KyselyMessageRepository implements MessageRepository {
  readonly #x: Exec
  readonly #config: ResolvedConfig

  constructor(exec: Exec, config: ResolvedConfig) {
    this.#x = exec
    this.#config = config
  }

  async enqueue(
    queue: string,
    items: readonly EnqueueItem[],
    options: { producerId?: number | null } = {},
  ): Promise<QueueMessage[]> {
    validateName('queue', queue)
    const prepared = prepareItems(items, this.#config)
    if (prepared.length === 0) return []
    const { f } = this.#x
    if (prepared.every((p) => p.headersText === null && p.concurrencyKey === null))
      return f.messages.enqueue(this.#x, queue, prepared, options.producerId ?? null)
    // With headers or concurrency keys: the messages and their side rows commit together. A
    // deduplicated item keeps the headers and key of the message it met.
    return this.#x.write('messages.enqueue', async (db) => {
      const out = await f.messages.insert(db, queue, prepared, options.producerId ?? null)
      const rows = prepared.flatMap((p, i) =>
        p.headersText === null ? [] : [sql`(${out[i]!.id}, ${f.json(p.headersText)})`],
      )
      if (rows.length > 0)
        await sql`insert into ${f.t('pgqrs_message_headers')} (message_id, headers)
          values ${sql.join(rows)} on conflict (message_id) do nothing`.execute(db)
      const keys = prepared.flatMap((p, i) =>
        p.concurrencyKey === null
          ? []
          : [sql`(${out[i]!.id}, ${out[i]!.queueId}, ${p.concurrencyKey})`],
      )
      if (keys.length > 0)
        await sql`insert into ${f.t('pgqrs_message_keys')} (message_id, queue_id, concurrency_key)
          values ${sql.join(keys)} on conflict (message_id) do nothing`.execute(db)
      return out
    })
  }

  async rateWaitMs(queue: string): Promise<number | null> {
    validateName('queue', queue)
    const { f } = this.#x
    return this.#x.read('messages.rateWaitMs', async (db) => {
      const q = await sql<Row>`select id, rate_max, rate_per_ms, ${f.now()} as db_now
        from ${f.t('pgqrs_queues')} where name = ${queue}`.execute(db)
      const row = q.rows[0]
      if (!row || row.rate_max === null || row.rate_max === undefined) return null
      const now = date(row.db_now).getTime()
      const max = num(row.rate_max)
      const perMs = num(row.rate_per_ms)
      // claims are evenly spaced: a rate key has budget again `perMs / max` after its last claim
      const spacing = perMs / max
      const r = await sql<Row>`select rate_key, max(claimed_at) as last
        from ${f.t('pgqrs_rate_claims')}
        where queue_id = ${num(row.id)} and claimed_at > ${f.time(new Date(now - spacing))}
        group by rate_key`.execute(db)
      let wait: number | null = null
      for (const c of r.rows) {
        const w = Math.max(1, Math.ceil(date(c.last).getTime() + spacing - now))
        wait = wait === null ? w : Math.min(wait, w)
      }
      if (wait !== null) return wait
      // No key waits (the claim that came back empty raced another worker's, or ran a while
      // ago): while messages are visible, try again after one spacing, not a whole poll.
      const visible = await sql<Row>`select 1 as x from ${f.t('pgqrs_messages')}
        where queue_id = ${num(row.id)} and visible_at <= ${f.now()} limit 1`.execute(db)
      return visible.rows.length > 0 ? Math.max(1, Math.ceil(spacing)) : null
    })
  }

  async headers(ids: readonly number[]): Promise<Map<number, Record<string, string>>> {
    if (!Array.isArray(ids)) throw new ValidationError('ids', ids, 'an array of message ids')
    const list = ids.map((id, i) => validateInt(`ids[${i}]`, id, 1))
    const out = new Map<number, Record<string, string>>()
    if (list.length === 0) return out
    const { f } = this.#x
    return this.#x.read('messages.headers', async (db) => {
      const r = await sql<Row>`select message_id, cast(headers as text) as headers
        from ${f.t('pgqrs_message_headers')} where message_id in (${sql.join(list)})`.execute(db)
      for (const row of r.rows) out.set(num(row.message_id), JSON.parse(String(row.headers)))
      return out
    })
  }

  async dequeue(queue: string, options: DequeueOptions): Promise<QueueMessage[]> {
    validateName('queue', queue)
    return this.#x.f.messages.claim(this.#x, queue, checkDequeue(options))
  }

  async settleAndDequeue(
    refs: readonly LeaseRef[],
    queue: string,
    options: SettleAndDequeueOptions,
  ): Promise<{ settled: boolean[]; messages: QueueMessage[] }> {
    validateName('queue', queue)
    const claim = checkDequeue(options)
    const how = options.settle ?? 'archive'
    if (how !== 'archive' && how !== 'delete')
      throw new ValidationError('settle', how, "'archive' or 'delete'")
    const u = usableRefs(refs, this.#x.f)
    const outcomes =
      how === 'archive' ? prepareOutcomes(options.outcomes, u, this.#config) : undefined
    const got = await this.#x.f.messages.settleAndClaim(
      this.#x,
      outcomes ? { ...u, outcomes } : u,
      how,
      queue,
      claim,
    )
    return { settled: positional(refs.length, u, got.settled), messages: got.messages }
  }

  async dequeueQueues(
    queues: readonly string[],
    options: DequeueQueuesOptions,
  ): Promise<{ settled: boolean[]; messages: QueueMessage[] }> {
    if (!Array.isArray(queues) || queues.length < 1 || queues.length > 100)
      throw new ValidationError('queues', queues, 'an array of 1 to 100 queue names')
    for (const q of queues) validateName('queue', q)
    const claim = checkDequeue(options)
    const refs = options.settle ?? []
    const u = usableRefs(refs, this.#x.f)
    const outcomes = prepareOutcomes(options.outcomes, u, this.#config)
    const got = await this.#x.f.messages.claimQueues(
      this.#x,
      outcomes ? { ...u, outcomes } : u,
      [...new Set(queues)],
      claim,
    )
    return { settled: positional(refs.length, u, got.settled), messages: got.messages }
  }

  async archive(refs: readonly LeaseRef[], options: ArchiveOptions = {}): Promise<boolean[]> {
    const u = usableRefs(refs, this.#x.f)
    if (u.ids.length === 0) return refs.map(() => false)
    const outcomes = prepareOutcomes(options?.outcomes, u, this.#config)
    return positional(
      refs.length,
      u,
      await this.#x.f.messages.archive(this.#x, outcomes ? { ...u, outcomes } : u),
    )
  }

  async cancel(id: number): Promise<QueueMessage | null> {
    validateInt('id', id, 1)
    const { f } = this.#x
    return this.#x.write('messages.cancel', async (db) => {
      // Not leased (never, or its lease ran out) and no workflow run's message: a run is
      // cancelled with cancelRun, which finalises the run too.
      const r = await sql<Row>`delete from ${f.t('pgqrs_messages')}
        where id = ${id} and (lease is null or visible_at <= ${f.now()})
          and not exists (select 1 from ${f.t('pgqrs_runs')} r where r.message_id = ${id})
        returning ${f.columns.message('')}`.execute(db)
      const row = r.rows[0]
      if (!row) return null
      const q = await sql<Row>`select name from ${f.t('pgqrs_queues')}
        where id = ${row.queue_id}`.execute(db)
      return toMessage(row, String(q.rows[0]?.name))
    })
  }

  async delete(refs: readonly LeaseRef[]): Promise<boolean[]> {
    const u = usableRefs(refs, this.#x.f)
    if (u.ids.length === 0) return refs.map(() => false)
    return positional(refs.length, u, await this.#x.f.messages.delete(this.#x, u))
  }

  async extendLease(ref: LeaseRef, leaseMs: number): Promise<boolean> {
    validateInt('leaseMs', leaseMs, 1, INT32)
    const u = usableRefs([ref], this.#x.f)
    if (u.ids.length === 0) return false
    const { f } = this.#x
    return this.#x.write1('messages.extendLease', async (db) => {
      const r = await sql`update ${f.t('pgqrs_messages')} set visible_at = ${f.nowPlus(leaseMs)}
        where id = ${u.ids[0]} and lease = ${f.lease(u.leases[0]!)}`.execute(db)
      return Number(r.numAffectedRows ?? 0n) > 0
    })
  }

  async release(refs: readonly LeaseRef[], delayMs = 0): Promise<boolean[]> {
    validateInt('delayMs', delayMs, 0, MAX_DELAY_MS)
    const u = usableRefs(refs, this.#x.f)
    if (u.ids.length === 0) return refs.map(() => false)
    const { f } = this.#x
    const done = await this.#x.write('messages.release', async (db) => {
      const ok = new Set<number>()
      for (let k = 0; k < u.ids.length; k++) {
        const r = await sql`update ${f.t('pgqrs_messages')} set visible_at = ${f.nowPlus(delayMs)},
            lease = null, attempts = case when attempts > 0 then attempts - 1 else 0 end
          where id = ${u.ids[k]} and lease = ${f.lease(u.leases[k]!)}`.execute(db)
        if (Number(r.numAffectedRows ?? 0n) > 0) ok.add(u.ids[k]!)
      }
      return ok
    })
    return positional(refs.length, u, done)
  }

  async fail(ref: LeaseRef, error: string, retryDelayMs: number): Promise<FailOutcome> {
    if (typeof error !== 'string') throw new ValidationError('error', error, 'a string')
    validateInt('retryDelayMs', retryDelayMs, 0, MAX_DELAY_MS)
    const u = usableRefs([ref], this.#x.f)
    if (u.ids.length === 0) return 'lost'
    // An error text comes from anywhere (a handler's exception): whatever it holds, it is stored.
    return this.#x.f.messages.fail(
      this.#x,
      u.ids[0]!,
      u.leases[0]!,
      storableText(error),
      retryDelayMs,
    )
  }

  async reschedule(id: number, delayMs: number): Promise<boolean> {
    validateInt('id', id, 1)
    validateInt('delayMs', delayMs, 0, MAX_DELAY_MS)
    const { f } = this.#x
    return this.#x.write1('messages.reschedule', async (db) => {
      const r = await sql`update ${f.t('pgqrs_messages')} set visible_at = ${f.nowPlus(delayMs)}
        where id = ${id} and (lease is null or visible_at <= ${f.now()})`.execute(db)
      return Number(r.numAffectedRows ?? 0n) > 0
    })
  }

  async handlerMetrics(queue: string, windowMs: number): Promise<HandlerMetrics | null> {
    validateName('queue', queue)
    validateInt('windowMs', windowMs, 1, MAX_DELAY_MS)
    const { f } = this.#x
    return this.#x.read('messages.handlerMetrics', async (db) => {
      const q = await sql<Row>`select id from ${f.t('pgqrs_queues')} where name = ${queue}`.execute(
        db,
      )
      if (!q.rows[0]) return null
      const qid = q.rows[0].id
      const cutoff = f.nowPlus(-windowMs)
      const c = await sql<Row>`select
          coalesce(sum(case when archived_at is not null then 1 else 0 end), 0) as handled,
          coalesce(sum(case when dead_at is not null then 1 else 0 end), 0) as dead,
          coalesce(sum(case when archived_at is not null then attempts - 1 else attempts end), 0)
            as failed,
          coalesce(sum(case when archived_at is not null and started_at is not null then 1 else 0
            end), 0) as timed
        from ${f.t('pgqrs_archive')}
        where queue_id = ${qid} and (archived_at >= ${cutoff} or dead_at >= ${f.nowPlus(-windowMs)})`.execute(
        db,
      )
      const row = c.rows[0]!
      const timed = num(row.timed)
      // The k-th smallest handling time, by an index-free ORDER BY over the window's rows.
      const nth = async (k: number): Promise<number> => {
        const r = await sql<Row>`select ${f.elapsedMs('started_at', 'archived_at')} as ms
          from ${f.t('pgqrs_archive')}
          where queue_id = ${qid} and archived_at >= ${f.nowPlus(-windowMs)}
            and started_at is not null
          order by 1 limit 1 offset ${k}`.execute(db)
        return Math.max(0, Math.round(num(r.rows[0]?.ms ?? 0)))
      }
      const rank = (p: number) => Math.min(timed - 1, Math.max(0, Math.ceil(p * timed) - 1))
      return {
        queue,
        windowMs,
        handled: num(row.handled),
        dead: num(row.dead),
        failed: num(row.failed),
        p50Ms: timed === 0 ? null : await nth(rank(0.5)),
        p95Ms: timed === 0 ? null : await nth(rank(0.95)),
      }
    })
  }

  async get(id: number): Promise<QueueMessage | null> {
    validateInt('id', id, 1)
    const { f } = this.#x
    return this.#x.read('messages.get', async (db) => {
      const r = await sql<Row>`
        select ${f.columns.message('m')}, q.name as queue_name
          from ${f.t('pgqrs_messages')} m join ${f.t('pgqrs_queues')} q on q.id = m.queue_id
          where m.id = ${id}
        union all
        select ${f.columns.message('a', true)}, q.name as queue_name
          from ${f.t('pgqrs_archive')} a join ${f.t('pgqrs_queues')} q on q.id = a.queue_id
          where a.id = ${id}`.execute(db)
      return r.rows[0] ? toMessage(r.rows[0]) : null
    })
  }

  async list(queue: string, options: ListMessagesOptions = {}): Promise<QueueMessage[]> {
    validateName('queue', queue)
    const state = options.state ?? 'active'
    if (!STATES.includes(state)) throw new ValidationError('state', state, STATES.join(', '))
    const limit = validateInt('limit', options.limit ?? 100, 1, 10_000)
    const { f } = this.#x
    const archive = state === 'archived' || state === 'dead'
    const table = f.t(archive ? 'pgqrs_archive' : 'pgqrs_messages')
    const where = {
      active: sql`1 = 1`,
      pending: sql`m.visible_at <= ${f.now()}`,
      leased: sql`m.visible_at > ${f.now()} and m.lease is not null`,
      delayed: sql`m.visible_at > ${f.now()} and m.lease is null`,
      archived: sql`m.archived_at is not null`,
      dead: sql`m.dead_at is not null`,
    }[state]
    // Archived and dead messages come in the order they were settled, which walks the partial
    // indexes (queue_id, archived_at) / (queue_id, dead_at): ordered by id, Postgres walked the
    // archive's primary key from the oldest row of every queue and filtered (421 ms for a queue's
    // recent dead letters among 1 000 000 archived rows; 0.3 ms on the index, pnpm bench --dashboard).
    const order =
      {
        archived: sql`m.archived_at, m.id`,
        dead: sql`m.dead_at, m.id`,
      }[state as 'archived' | 'dead'] ?? sql`m.id`
    return this.#x.read('messages.list', async (db) => {
      const r = await sql<Row>`select ${f.columns.message('m', archive)} from ${table} m
        where m.queue_id = (select id from ${f.t('pgqrs_queues')} where name = ${queue}) and ${where}
        order by ${order} limit ${limit}`.execute(db)
      return r.rows.map((row) => toMessage(row, queue))
    })
  }

  async replay(id: number): Promise<QueueMessage | null> {
    validateInt('id', id, 1)
    const { f } = this.#x
    const columns = sql.raw(MESSAGE_COLUMNS.join(', '))
    return this.#x.write('messages.replay', async (db) => {
      const moved = await sql<Row>`insert into ${f.t('pgqrs_messages')} (${columns})
        select id, queue_id, payload, priority, enqueued_at, ${f.now()}, 0, max_attempts, null,
          consumer_id, producer_id, dedupe_key, last_error, null, timeout_ms
        from ${f.t('pgqrs_archive')} where id = ${id}
        returning id`.execute(db)
      if (moved.rows.length === 0) return null
      await sql`delete from ${f.t('pgqrs_archive')} where id = ${id}`.execute(db)
      const r = await sql<Row>`select ${f.columns.message('m')}, q.name as queue_name
        from ${f.t('pgqrs_messages')} m join ${f.t('pgqrs_queues')} q on q.id = m.queue_id
        where m.id = ${num(moved.rows[0]!.id)}`.execute(db)
      return toMessage(r.rows[0]!)
    })
  }

  async purgeArchived(options: {
    olderThanMs: number
    queue?: string
    includeDead?: boolean
  }): Promise<number> {
    const olderThanMs = validateInt('olderThanMs', options?.olderThanMs, 0, MAX_DELAY_MS)
    if (options.queue !== undefined) validateName('queue', options.queue)
    const { f } = this.#x
    const cutoff = f.nowPlus(-olderThanMs)
    const kinds = options.includeDead
      ? sql`(archived_at <= ${cutoff} or dead_at <= ${f.nowPlus(-olderThanMs)})`
      : sql`archived_at <= ${cutoff}`
    const byQueue =
      options.queue === undefined
        ? sql``
        : sql`and queue_id = (select id from ${f.t('pgqrs_queues')} where name = ${options.queue})`
    return this.#x.write('messages.purgeArchived', async (db) => {
      const r = await sql`delete from ${f.t('pgqrs_archive')} where ${kinds} ${byQueue}`.execute(db)
      // headers of messages that are gone (purged here, or deleted when handled)
      await sql`delete from ${f.t('pgqrs_message_headers')} as h
        where not exists (select 1 from ${f.t('pgqrs_messages')} m where m.id = h.message_id)
          and not exists (select 1 from ${f.t('pgqrs_archive')} a where a.id = h.message_id)`.execute(
        db,
      )
      // concurrency keys likewise (a replayed message keeps its key while it is in the archive)
      await sql`delete from ${f.t('pgqrs_message_keys')} as k
        where not exists (select 1 from ${f.t('pgqrs_messages')} m where m.id = k.message_id)
          and not exists (select 1 from ${f.t('pgqrs_archive')} a where a.id = k.message_id)`.execute(
        db,
      )
      return Number(r.numAffectedRows ?? 0n)
    })
  }
}
