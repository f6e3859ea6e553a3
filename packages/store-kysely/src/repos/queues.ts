import {
  ConflictError,
  type QueueLimits,
  QueueAlreadyExistsError,
  type QueueMetrics,
  type PageOptions,
  type QueueRecord,
  type QueueRepository,
  validateName,
  validateInt,
  validatePage,
  ValidationError,
} from '@pgqrs/core'
import { type RawBuilder, sql } from 'kysely'
import type { Db, Exec } from '../exec.js'
import type { FamilyFragments } from '../family.js'
import { date, num, type Row, toQueue } from '../row-mappers.js'

/**
 * Get-or-create a queue in one statement (`INSERT … ON CONFLICT DO UPDATE`, whose no-op update
 * makes RETURNING give the row either way), on `db` (a transaction of the caller's, or not).
 * @internal
 */
export function ensureQueue(f: FamilyFragments, db: Db, name: string) {
  return f
    .q(db)
    .insertInto('pgqrs_queues')
    .values({ name, created_at: f.now() })
    .onConflict((oc) => oc.column('name').doUpdateSet((eb) => ({ name: eb.ref('excluded.name') })))
    .returning(['id', 'name', 'created_at'])
    .executeTakeFirstOrThrow()
}

const LIMIT_COLUMNS = sql.raw(
  'max_concurrency, concurrency_per_key, rate_max, rate_per_ms, rate_per_key',
)

const toLimits = (r: Row): QueueLimits => ({
  maxConcurrency: r.max_concurrency === null ? null : num(r.max_concurrency),
  concurrencyPerKey: r.concurrency_per_key === null ? null : num(r.concurrency_per_key),
  rateLimit:
    r.rate_max === null
      ? null
      : { max: num(r.rate_max), perMs: num(r.rate_per_ms), perKey: num(r.rate_per_key) === 1 },
})

/** Queues over the pgqrs tables; every statement runs on both families. @internal */
export class KyselyQueueRepository implements QueueRepository {
  readonly #x: Exec
  constructor(exec: Exec) {
    this.#x = exec
  }

  async create(name: string): Promise<QueueRecord> {
    validateName('queue', name)
    const { f } = this.#x
    try {
      return await this.#x.write1('queues.create', async (db) => {
        const row = await f
          .q(db)
          .insertInto('pgqrs_queues')
          .values({ name, created_at: f.now() })
          .returning(['id', 'name', 'created_at'])
          .executeTakeFirstOrThrow()
        return toQueue(row)
      })
    } catch (e) {
      if (ConflictError.is(e) && e.code === 'CONFLICT')
        throw new QueueAlreadyExistsError(name, { cause: e })
      throw e
    }
  }

  async ensure(name: string): Promise<QueueRecord> {
    validateName('queue', name)
    const { f } = this.#x
    // One statement: DO UPDATE (a no-op write) makes RETURNING give the row in both cases.
    return this.#x.write1('queues.ensure', async (db) => toQueue(await ensureQueue(f, db, name)))
  }

  async get(name: string): Promise<QueueRecord | null> {
    validateName('queue', name)
    const { f } = this.#x
    return this.#x.read('queues.get', async (db) => {
      const row = await f
        .q(db)
        .selectFrom('pgqrs_queues')
        .select(['id', 'name', 'created_at'])
        .where('name', '=', name)
        .executeTakeFirst()
      return row ? toQueue(row) : null
    })
  }

  async list(options?: PageOptions<string>): Promise<QueueRecord[]> {
    const { limit, after } = validatePage(options, 'name')
    const { f } = this.#x
    return this.#x.read('queues.list', async (db) => {
      let query = f.q(db).selectFrom('pgqrs_queues').select(['id', 'name', 'created_at'])
      if (after !== undefined) query = query.where('name', '>', after)
      const rows = await query.orderBy('name').limit(limit).execute()
      return rows.map(toQueue)
    })
  }

  async delete(name: string, options: { force?: boolean } = {}): Promise<boolean> {
    validateName('queue', name)
    const { f } = this.#x
    return this.#x.write('queues.delete', async (db) => {
      const q = f.q(db)
      const found = await q
        .selectFrom('pgqrs_queues')
        .select('id')
        .where('name', '=', name)
        .executeTakeFirst()
      if (!found) return false
      const id = num(found.id)
      if (!options.force) {
        const c = await q
          .selectFrom('pgqrs_messages')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('queue_id', '=', id)
          .executeTakeFirst()
        const active = num(c?.n ?? 0)
        if (active > 0) {
          throw new ConflictError(
            'queue',
            name,
            `Queue "${name}" has ${active} active message(s): archive or purge them first, or delete with { force: true }`,
          )
        }
      }
      await q.deleteFrom('pgqrs_queues').where('id', '=', id).execute()
      // After the queue row, in a new statement: any archive row a concurrent mover committed
      // first is visible now (the archive has no foreign key to cascade it).
      await q.deleteFrom('pgqrs_archive').where('queue_id', '=', id).execute()
      return true
    })
  }

  async purge(name: string): Promise<number> {
    validateName('queue', name)
    const { f } = this.#x
    return this.#x.write('queues.purge', async (db) => {
      const q = f.q(db)
      const found = await q
        .selectFrom('pgqrs_queues')
        .select('id')
        .where('name', '=', name)
        .executeTakeFirst()
      if (!found) return 0
      const id = num(found.id)
      const a = await q.deleteFrom('pgqrs_messages').where('queue_id', '=', id).executeTakeFirst()
      const b = await q.deleteFrom('pgqrs_archive').where('queue_id', '=', id).executeTakeFirst()
      return Number(a.numDeletedRows) + Number(b.numDeletedRows)
    })
  }

  async limits(name: string): Promise<QueueLimits | null> {
    validateName('queue', name)
    const { f } = this.#x
    return this.#x.read('queues.limits', async (db) => {
      const r = await sql<Row>`select ${LIMIT_COLUMNS} from ${f.t('pgqrs_queues')}
        where name = ${name}`.execute(db)
      return r.rows[0] ? toLimits(r.rows[0]) : null
    })
  }

  async setLimits(
    name: string,
    limits: {
      readonly maxConcurrency?: number | null
      readonly concurrencyPerKey?: number | null
      readonly rateLimit?: {
        readonly max: number
        readonly perMs: number
        readonly perKey?: boolean
      } | null
    },
  ): Promise<QueueLimits | null> {
    validateName('queue', name)
    if (typeof limits !== 'object' || limits === null)
      throw new ValidationError('limits', limits, 'an object of limits')
    const sets: RawBuilder<unknown>[] = []
    for (const [field, column] of [
      ['maxConcurrency', 'max_concurrency'],
      ['concurrencyPerKey', 'concurrency_per_key'],
    ] as const) {
      const v = limits[field]
      if (v === undefined) continue
      if (v !== null) validateInt(field, v, 1, 1_000_000)
      sets.push(sql`${sql.ref(column)} = ${v}`)
    }
    const rate = limits.rateLimit
    if (rate === null) sets.push(sql`rate_max = null, rate_per_ms = null, rate_per_key = 0`)
    else if (rate !== undefined) {
      if (typeof rate !== 'object')
        throw new ValidationError('rateLimit', rate, '{ max, perMs, perKey? } or null')
      validateInt('rateLimit.max', rate.max, 1, 1_000_000)
      validateInt('rateLimit.perMs', rate.perMs, 1, 86_400_000)
      if (rate.perKey !== undefined && typeof rate.perKey !== 'boolean')
        throw new ValidationError('rateLimit.perKey', rate.perKey, 'true or false')
      sets.push(
        sql`rate_max = ${rate.max}, rate_per_ms = ${rate.perMs}, rate_per_key = ${rate.perKey ? 1 : 0}`,
      )
    }
    const { f } = this.#x
    return this.#x.write1('queues.setLimits', async (db) => {
      const set = sets.length > 0 ? sql.join(sets) : sql`name = name`
      const r = await sql<Row>`update ${f.t('pgqrs_queues')} set ${set} where name = ${name}
        returning ${LIMIT_COLUMNS}`.execute(db)
      return r.rows[0] ? toLimits(r.rows[0]) : null
    })
  }

  async metrics(name: string): Promise<QueueMetrics | null> {
    validateName('queue', name)
    const rows = await this.#metrics(sql`q.name = ${name}`, 1)
    return rows[0] ?? null
  }

  async allMetrics(options?: PageOptions<string>): Promise<QueueMetrics[]> {
    const { limit, after } = validatePage(options, 'name')
    return this.#metrics(after === undefined ? sql`1 = 1` : sql`q.name > ${after}`, limit)
  }

  /**
   * One statement: counts per queue by state, with the database clock as "now". The hot table is
   * grouped whole (it holds only active messages); the archive is never counted: archived and dead
   * come from `pgqrs_archive_counts`, which triggers on the archive keep (migration
   * 0005_observability), and the newest finished message is one probe at the end of each of the
   * archive's partial indexes.
   */
  #metrics(where: ReturnType<typeof sql>, limit: number): Promise<QueueMetrics[]> {
    const { f } = this.#x
    const m = f.t('pgqrs_messages')
    const a = f.t('pgqrs_archive')
    const counts = f.t('pgqrs_archive_counts')
    return this.#x.read('queues.metrics', async (db) => {
      const r = await sql<Row>`
        with ${f.archiveCountsFold()} now_ as (select ${f.now()} as t),
        qs as (select q.id, q.name from ${f.t('pgqrs_queues')} q where ${where} order by q.name limit ${limit})
        select q.name,
          (select t from now_) as db_now,
          coalesce(s.pending, 0) as pending, coalesce(s.leased, 0) as leased,
          coalesce(s.delayed, 0) as delayed, s.oldest_pending, s.newest,
          (select coalesce(sum(c.archived), 0) from ${counts} c where c.queue_id = q.id) as archived,
          (select coalesce(sum(c.dead), 0) from ${counts} c where c.queue_id = q.id) as dead,
          (select x.enqueued_at from ${a} x where x.queue_id = q.id and x.archived_at is not null
            order by x.archived_at desc limit 1) as last_archived,
          (select x.enqueued_at from ${a} x where x.queue_id = q.id and x.dead_at is not null
            order by x.dead_at desc limit 1) as last_dead
        from qs q
        left join (
          select queue_id,
            sum(case when visible_at <= (select t from now_) then 1 else 0 end) as pending,
            sum(case when visible_at > (select t from now_) and lease is not null then 1 else 0 end) as leased,
            sum(case when visible_at > (select t from now_) and lease is null then 1 else 0 end) as delayed,
            min(case when visible_at <= (select t from now_) then enqueued_at end) as oldest_pending,
            max(enqueued_at) as newest
          from ${m} where queue_id in (select id from qs) group by queue_id
        ) s on s.queue_id = q.id
        order by q.name`.execute(db)
      return r.rows.map((row) => {
        const now = date(row.db_now).getTime()
        const newest = [row.newest, row.last_archived, row.last_dead]
          .filter((v) => v !== null && v !== undefined)
          .map((v) => date(v))
          .sort((x, y) => y.getTime() - x.getTime())[0]
        return {
          name: String(row.name),
          pending: num(row.pending),
          leased: num(row.leased),
          delayed: num(row.delayed),
          archived: num(row.archived),
          dead: num(row.dead),
          oldestPendingAgeMs:
            row.oldest_pending === null || row.oldest_pending === undefined
              ? null
              : Math.max(0, now - date(row.oldest_pending).getTime()),
          newestEnqueuedAt: newest ?? null,
        }
      })
    })
  }
}
