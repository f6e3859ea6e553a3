import {
  type DequeueOptions,
  type EnqueueItem,
  type FailOutcome,
  type LeaseRef,
  type ListMessagesOptions,
  type MessageRepository,
  type QueueMessage,
  QueueNotFoundError,
  type ResolvedConfig,
  type SettleAndDequeueOptions,
  ValidationError,
  validateInt,
  validateName,
} from '@pgqrs/core'
import { sql } from 'kysely'
import { MOVED_COLUMNS, messageColumns } from '../columns.js'
import type { Db } from '../dialect.js'
import type { Exec } from '../exec.js'
import { num, type Row, toMessage } from '../row-mappers.js'
import {
  pgSettleDequeue,
  pgDelete,
  pgDequeue,
  pgInsertMessages,
  pgMoveToArchive,
} from '../sql/postgres-messages.js'
import {
  sqliteDelete,
  sqliteDequeue,
  sqliteInsertMessages,
  sqliteMoveToArchive,
} from '../sql/sqlite-messages.js'
import { checkDequeue, positional, prepareItems, usableRefs } from './message-input.js'

const STATES = ['active', 'pending', 'leased', 'delayed', 'archived', 'dead'] as const

/** Messages and leases; hot paths are family-specific, the rest is shared SQL. @internal */
export class KyselyMessageRepository implements MessageRepository {
  readonly #x: Exec
  readonly #config: ResolvedConfig
  readonly #channel: string | null

  /** `channel`: the NOTIFY channel on Postgres (null: no notifications). */
  constructor(exec: Exec, config: ResolvedConfig, channel: string | null) {
    this.#x = exec
    this.#config = config
    this.#channel = channel
  }

  get #pg() {
    return this.#x.d.family === 'postgres'
  }

  async #queueId(db: Db, queue: string): Promise<number> {
    const r =
      await sql<Row>`select id from ${this.#x.d.t('pgqrs_queues')} where name = ${queue}`.execute(
        db,
      )
    if (!r.rows[0]) throw new QueueNotFoundError(queue)
    return num(r.rows[0].id)
  }

  async enqueue(
    queue: string,
    items: readonly EnqueueItem[],
    options: { producerId?: number | null } = {},
  ): Promise<QueueMessage[]> {
    validateName('queue', queue)
    const prepared = prepareItems(items, this.#config)
    if (prepared.length === 0) return []
    const producerId = options.producerId ?? null
    const { d } = this.#x
    if (!this.#pg) {
      return this.#x.write('messages.enqueue', async (db) =>
        sqliteInsertMessages(db, d, await this.#queueId(db, queue), queue, prepared, producerId),
      )
    }
    return this.#x.write1('messages.enqueue', async (db) => {
      // A deduplicated item's existing message may be settled between our INSERT and our look-up;
      // then the item is inserted again (a new message), as if it had come a moment later.
      let pending = prepared.map((_, i) => i)
      const out: QueueMessage[] = new Array(prepared.length)
      for (let round = 0; pending.length > 0; round++) {
        const batch = pending.map((i) => prepared[i]!)
        const inserted = await pgInsertMessages(db, d, queue, batch, producerId, this.#channel)
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
          const r =
            await sql<Row>`select ${messageColumns('postgres', 'm')} from ${d.t('pgqrs_messages')} m
            where m.queue_id = (select id from ${d.t('pgqrs_queues')} where name = ${queue})
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
          await this.#queueId(db, queue) // throws QueueNotFoundError when that is why nothing went in
        }
        if (round > 5) throw new Error('enqueue: dedupe keys kept changing state; retry')
        pending = next
      }
      return out
    })
  }

  async dequeue(queue: string, options: DequeueOptions): Promise<QueueMessage[]> {
    validateName('queue', queue)
    const { batchSize, leaseMs, consumerId } = checkDequeue(options)
    const { d } = this.#x
    if (!this.#pg) {
      return this.#x.write('messages.dequeue', async (db) =>
        sqliteDequeue(db, d, await this.#queueId(db, queue), queue, batchSize, leaseMs, consumerId),
      )
    }
    const got = await this.#x.write1('messages.dequeue', (db) =>
      pgDequeue(db, d, queue, batchSize, leaseMs, consumerId),
    )
    if (got.length === 0) await this.#x.read('messages.dequeue', (db) => this.#queueId(db, queue))
    return got
  }

  async settleAndDequeue(
    refs: readonly LeaseRef[],
    queue: string,
    options: SettleAndDequeueOptions,
  ): Promise<{ settled: boolean[]; messages: QueueMessage[] }> {
    validateName('queue', queue)
    const { batchSize, leaseMs, consumerId } = checkDequeue(options)
    const how = options.settle ?? 'archive'
    if (how !== 'archive' && how !== 'delete')
      throw new ValidationError('settle', how, "'archive' or 'delete'")
    const u = usableRefs(refs, this.#x.d.family)
    const { d } = this.#x
    if (!this.#pg) {
      return this.#x.write('messages.settleAndDequeue', async (db) => {
        const queueId = await this.#queueId(db, queue)
        const done =
          u.ids.length === 0
            ? new Set<number>()
            : how === 'delete'
              ? await sqliteDelete(db, u.ids, u.leases)
              : await sqliteMoveToArchive(db, d, u.ids, u.leases)
        const messages = await sqliteDequeue(db, d, queueId, queue, batchSize, leaseMs, consumerId)
        return { settled: positional(refs.length, u, done), messages }
      })
    }
    const got = await this.#x.write1('messages.settleAndDequeue', (db) =>
      pgSettleDequeue(
        db,
        d,
        u.ids,
        u.leases,
        how === 'delete',
        queue,
        batchSize,
        leaseMs,
        consumerId,
      ).catch((e: unknown) => {
        if ((e as { code?: unknown }).code === 'P0002') throw new QueueNotFoundError(queue)
        throw e
      }),
    )
    return { settled: positional(refs.length, u, got.settled), messages: got.messages }
  }

  async archive(refs: readonly LeaseRef[]): Promise<boolean[]> {
    const u = usableRefs(refs, this.#x.d.family)
    if (u.ids.length === 0) return refs.map(() => false)
    const { d } = this.#x
    const done = this.#pg
      ? await this.#x.write1('messages.archive', (db) => pgMoveToArchive(db, d, u.ids, u.leases))
      : await this.#x.write('messages.archive', (db) => sqliteMoveToArchive(db, d, u.ids, u.leases))
    return positional(refs.length, u, done)
  }

  async delete(refs: readonly LeaseRef[]): Promise<boolean[]> {
    const u = usableRefs(refs, this.#x.d.family)
    if (u.ids.length === 0) return refs.map(() => false)
    const { d } = this.#x
    const done = await this.#x.write1('messages.delete', (db) =>
      this.#pg ? pgDelete(db, d, u.ids, u.leases) : sqliteDelete(db, u.ids, u.leases),
    )
    return positional(refs.length, u, done)
  }

  async extendLease(ref: LeaseRef, leaseMs: number): Promise<boolean> {
    validateInt('leaseMs', leaseMs, 1, 2_147_483_647)
    const u = usableRefs([ref], this.#x.d.family)
    if (u.ids.length === 0) return false
    const { d } = this.#x
    return this.#x.write1('messages.extendLease', async (db) => {
      const r = await sql`update ${d.t('pgqrs_messages')} set visible_at = ${d.nowPlus(leaseMs)}
        where id = ${u.ids[0]} and lease = ${this.#lease(u.leases[0]!)}`.execute(db)
      return Number(r.numAffectedRows ?? 0n) > 0
    })
  }

  #lease(token: string) {
    return this.#pg ? sql`${token}::uuid` : sql`${token}`
  }

  async release(refs: readonly LeaseRef[], delayMs = 0): Promise<boolean[]> {
    validateInt('delayMs', delayMs, 0)
    const u = usableRefs(refs, this.#x.d.family)
    if (u.ids.length === 0) return refs.map(() => false)
    const { d } = this.#x
    const done = await this.#x.write('messages.release', async (db) => {
      const ok = new Set<number>()
      for (let k = 0; k < u.ids.length; k++) {
        const r = await sql`update ${d.t('pgqrs_messages')} set visible_at = ${d.nowPlus(delayMs)},
            lease = null, attempts = case when attempts > 0 then attempts - 1 else 0 end
          where id = ${u.ids[k]} and lease = ${this.#lease(u.leases[k]!)}`.execute(db)
        if (Number(r.numAffectedRows ?? 0n) > 0) ok.add(u.ids[k]!)
      }
      return ok
    })
    return positional(refs.length, u, done)
  }

  async fail(ref: LeaseRef, error: string, retryDelayMs: number): Promise<FailOutcome> {
    if (typeof error !== 'string') throw new ValidationError('error', error, 'a string')
    validateInt('retryDelayMs', retryDelayMs, 0)
    const u = usableRefs([ref], this.#x.d.family)
    if (u.ids.length === 0) return 'lost'
    const { d } = this.#x
    const m = d.t('pgqrs_messages')
    const text = error.length > 10_000 ? `${error.slice(0, 10_000)}…` : error
    return this.#x.write('messages.fail', async (db) => {
      const lock = this.#pg ? sql`for update` : sql``
      const r = await sql<Row>`select attempts, max_attempts from ${m}
        where id = ${u.ids[0]} and lease = ${this.#lease(u.leases[0]!)} ${lock}`.execute(db)
      const row = r.rows[0]
      if (!row) return 'lost'
      if (num(row.attempts) >= num(row.max_attempts)) {
        await sql`insert into ${d.t('pgqrs_archive')} (${MOVED_COLUMNS}, dead_at)
          select id, queue_id, payload, priority, enqueued_at, visible_at, attempts, max_attempts, null,
            consumer_id, producer_id, dedupe_key, ${text}, dequeued_at, ${d.now()}
          from ${m} where id = ${u.ids[0]}`.execute(db)
        await sql`delete from ${m} where id = ${u.ids[0]}`.execute(db)
        // A workflow run whose message dies must not stay RUNNING forever.
        await sql`update ${d.t('pgqrs_runs')} set status = 'ERROR', updated_at = ${d.now()}, completed_at = ${d.now()},
            error = ${d.json(JSON.stringify({ name: 'DeadLetter', transient: false, message: `the run's message was dead-lettered after ${num(row.attempts)} failed deliveries: ${text}` }))}
          where message_id = ${u.ids[0]} and status not in ('SUCCESS', 'ERROR', 'CANCELLED')`.execute(
          db,
        )
        return 'dead'
      }
      await sql`update ${m} set visible_at = ${d.nowPlus(retryDelayMs)}, lease = null, last_error = ${text}
        where id = ${u.ids[0]}`.execute(db)
      return 'retried'
    })
  }

  async reschedule(id: number, delayMs: number): Promise<boolean> {
    validateInt('id', id, 1)
    validateInt('delayMs', delayMs, 0)
    const { d } = this.#x
    return this.#x.write1('messages.reschedule', async (db) => {
      const r = await sql`update ${d.t('pgqrs_messages')} set visible_at = ${d.nowPlus(delayMs)}
        where id = ${id} and (lease is null or visible_at <= ${d.now()})`.execute(db)
      return Number(r.numAffectedRows ?? 0n) > 0
    })
  }

  async get(id: number): Promise<QueueMessage | null> {
    validateInt('id', id, 1)
    const { d } = this.#x
    return this.#x.read('messages.get', async (db) => {
      const r = await sql<Row>`
        select ${messageColumns(d.family, 'm')}, q.name as queue_name
          from ${d.t('pgqrs_messages')} m join ${d.t('pgqrs_queues')} q on q.id = m.queue_id where m.id = ${id}
        union all
        select ${messageColumns(d.family, 'a', true)}, q.name as queue_name
          from ${d.t('pgqrs_archive')} a join ${d.t('pgqrs_queues')} q on q.id = a.queue_id where a.id = ${id}`.execute(
        db,
      )
      return r.rows[0] ? toMessage(r.rows[0]) : null
    })
  }

  async list(queue: string, options: ListMessagesOptions = {}): Promise<QueueMessage[]> {
    validateName('queue', queue)
    const state = options.state ?? 'active'
    if (!STATES.includes(state)) throw new ValidationError('state', state, STATES.join(', '))
    const limit = validateInt('limit', options.limit ?? 100, 1, 10_000)
    const { d } = this.#x
    const archive = state === 'archived' || state === 'dead'
    const table = d.t(archive ? 'pgqrs_archive' : 'pgqrs_messages')
    const where = {
      active: sql`1 = 1`,
      pending: sql`m.visible_at <= ${d.now()}`,
      leased: sql`m.visible_at > ${d.now()} and m.lease is not null`,
      delayed: sql`m.visible_at > ${d.now()} and m.lease is null`,
      archived: sql`m.archived_at is not null`,
      dead: sql`m.dead_at is not null`,
    }[state]
    return this.#x.read('messages.list', async (db) => {
      const r = await sql<Row>`select ${messageColumns(d.family, 'm', archive)} from ${table} m
        where m.queue_id = (select id from ${d.t('pgqrs_queues')} where name = ${queue}) and ${where}
        order by m.id limit ${limit}`.execute(db)
      return r.rows.map((row) => toMessage(row, queue))
    })
  }

  async replay(id: number): Promise<QueueMessage | null> {
    validateInt('id', id, 1)
    const { d } = this.#x
    return this.#x.write('messages.replay', async (db) => {
      const moved = await sql<Row>`insert into ${d.t('pgqrs_messages')} (${MOVED_COLUMNS})
        select id, queue_id, payload, priority, enqueued_at, ${d.now()}, 0, max_attempts, null,
          consumer_id, producer_id, dedupe_key, last_error, null
        from ${d.t('pgqrs_archive')} where id = ${id}
        returning id`.execute(db)
      if (moved.rows.length === 0) return null
      await sql`delete from ${d.t('pgqrs_archive')} where id = ${id}`.execute(db)
      const r = await sql<Row>`select ${messageColumns(d.family, 'm')}, q.name as queue_name
        from ${d.t('pgqrs_messages')} m join ${d.t('pgqrs_queues')} q on q.id = m.queue_id
        where m.id = ${id}`.execute(db)
      return toMessage(r.rows[0]!)
    })
  }

  async purgeArchived(options: {
    olderThanMs: number
    queue?: string
    includeDead?: boolean
  }): Promise<number> {
    const olderThanMs = validateInt('olderThanMs', options?.olderThanMs, 0)
    if (options.queue !== undefined) validateName('queue', options.queue)
    const { d } = this.#x
    const cutoff = d.nowPlus(-olderThanMs)
    const kinds = options.includeDead
      ? sql`(archived_at <= ${cutoff} or dead_at <= ${d.nowPlus(-olderThanMs)})`
      : sql`archived_at <= ${cutoff}`
    const byQueue =
      options.queue === undefined
        ? sql``
        : sql`and queue_id = (select id from ${d.t('pgqrs_queues')} where name = ${options.queue})`
    return this.#x.write1('messages.purgeArchived', async (db) => {
      const r = await sql`delete from ${d.t('pgqrs_archive')} where ${kinds} ${byQueue}`.execute(db)
      return Number(r.numAffectedRows ?? 0n)
    })
  }
}
