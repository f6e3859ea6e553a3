import {
  ConflictError,
  QueueAlreadyExistsError,
  type QueueMetrics,
  type QueueRecord,
  type QueueRepository,
  validateName,
} from '@pgqrs/core'
import { sql } from 'kysely'
import type { Exec } from '../exec.js'
import { date, num, type Row, toQueue } from '../row-mappers.js'

/** Queues over the pgqrs tables; every statement runs on both families. @internal */
export class KyselyQueueRepository implements QueueRepository {
  readonly #x: Exec
  constructor(exec: Exec) {
    this.#x = exec
  }

  async create(name: string): Promise<QueueRecord> {
    validateName('queue', name)
    const { d } = this.#x
    try {
      return await this.#x.write1('queues.create', async (db) => {
        const r = await sql<Row>`insert into ${d.t('pgqrs_queues')} (name, created_at)
          values (${name}, ${d.now()}) returning id, name, created_at`.execute(db)
        return toQueue(r.rows[0]!)
      })
    } catch (e) {
      if (ConflictError.is(e) && e.code === 'CONFLICT')
        throw new QueueAlreadyExistsError(name, { cause: e })
      throw e
    }
  }

  async ensure(name: string): Promise<QueueRecord> {
    validateName('queue', name)
    const { d } = this.#x
    // One statement: DO UPDATE (a no-op write) makes RETURNING give the row in both cases.
    return this.#x.write1('queues.ensure', async (db) => {
      const r = await sql<Row>`insert into ${d.t('pgqrs_queues')} (name, created_at)
        values (${name}, ${d.now()})
        on conflict (name) do update set name = excluded.name
        returning id, name, created_at`.execute(db)
      return toQueue(r.rows[0]!)
    })
  }

  async get(name: string): Promise<QueueRecord | null> {
    validateName('queue', name)
    const { d } = this.#x
    return this.#x.read('queues.get', async (db) => {
      const r = await sql<Row>`select id, name, created_at from ${d.t('pgqrs_queues')}
        where name = ${name}`.execute(db)
      return r.rows[0] ? toQueue(r.rows[0]) : null
    })
  }

  async list(): Promise<QueueRecord[]> {
    const { d } = this.#x
    return this.#x.read('queues.list', async (db) => {
      const r = await sql<Row>`select id, name, created_at from ${d.t('pgqrs_queues')}
        order by name`.execute(db)
      return r.rows.map(toQueue)
    })
  }

  async delete(name: string, options: { force?: boolean } = {}): Promise<boolean> {
    validateName('queue', name)
    const { d } = this.#x
    return this.#x.write('queues.delete', async (db) => {
      const q = await sql<Row>`select id from ${d.t('pgqrs_queues')} where name = ${name}`.execute(
        db,
      )
      if (!q.rows[0]) return false
      const id = num(q.rows[0].id)
      if (!options.force) {
        const c = await sql<Row>`select count(*) as n from ${d.t('pgqrs_messages')}
          where queue_id = ${id}`.execute(db)
        const active = num(c.rows[0]?.n)
        if (active > 0) {
          throw new ConflictError(
            'queue',
            name,
            `Queue "${name}" has ${active} active message(s): archive or purge them first, or delete with { force: true }`,
          )
        }
      }
      await sql`delete from ${d.t('pgqrs_queues')} where id = ${id}`.execute(db)
      // After the queue row, in a new statement: any archive row a concurrent mover committed
      // first is visible now (on Postgres the archive has no foreign key to cascade it).
      await sql`delete from ${d.t('pgqrs_archive')} where queue_id = ${id}`.execute(db)
      return true
    })
  }

  async purge(name: string): Promise<number> {
    validateName('queue', name)
    const { d } = this.#x
    return this.#x.write('queues.purge', async (db) => {
      const q = await sql<Row>`select id from ${d.t('pgqrs_queues')} where name = ${name}`.execute(
        db,
      )
      if (!q.rows[0]) return 0
      const id = num(q.rows[0].id)
      const a = await sql`delete from ${d.t('pgqrs_messages')} where queue_id = ${id}`.execute(db)
      const b = await sql`delete from ${d.t('pgqrs_archive')} where queue_id = ${id}`.execute(db)
      return Number(a.numAffectedRows ?? 0n) + Number(b.numAffectedRows ?? 0n)
    })
  }

  async metrics(name: string): Promise<QueueMetrics | null> {
    validateName('queue', name)
    const rows = await this.#metrics(name)
    return rows[0] ?? null
  }

  allMetrics(): Promise<QueueMetrics[]> {
    return this.#metrics(null)
  }

  /** One statement: counts per queue by state, with the database clock as "now". */
  #metrics(name: string | null): Promise<QueueMetrics[]> {
    const { d } = this.#x
    const m = d.t('pgqrs_messages')
    const a = d.t('pgqrs_archive')
    return this.#x.read('queues.metrics', async (db) => {
      const r = await sql<Row>`
        with now_ as (select ${d.now()} as t)
        select q.name,
          (select t from now_) as db_now,
          coalesce(s.pending, 0) as pending, coalesce(s.leased, 0) as leased,
          coalesce(s.delayed, 0) as delayed, s.oldest_pending, s.newest,
          coalesce(z.archived, 0) as archived, coalesce(z.dead, 0) as dead, z.newest_archived
        from ${d.t('pgqrs_queues')} q
        left join (
          select queue_id,
            sum(case when visible_at <= (select t from now_) then 1 else 0 end) as pending,
            sum(case when visible_at > (select t from now_) and lease is not null then 1 else 0 end) as leased,
            sum(case when visible_at > (select t from now_) and lease is null then 1 else 0 end) as delayed,
            min(case when visible_at <= (select t from now_) then enqueued_at end) as oldest_pending,
            max(enqueued_at) as newest
          from ${m} group by queue_id
        ) s on s.queue_id = q.id
        left join (
          select queue_id,
            sum(case when archived_at is not null then 1 else 0 end) as archived,
            sum(case when dead_at is not null then 1 else 0 end) as dead,
            max(enqueued_at) as newest_archived
          from ${a} group by queue_id
        ) z on z.queue_id = q.id
        where ${name === null ? sql`1 = 1` : sql`q.name = ${name}`}
        order by q.name`.execute(db)
      return r.rows.map((row) => {
        const now = date(row.db_now).getTime()
        const newest = [row.newest, row.newest_archived]
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
