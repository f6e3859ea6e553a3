import {
  ANONYMOUS_WORKER_PREFIX,
  InvalidStateTransitionError,
  type ListWorkersOptions,
  type RegisterWorker,
  ValidationError,
  validateInt,
  validateText,
  validateName,
  validatePage,
  WORKER_STATUSES,
  WORKER_TRANSITIONS,
  WorkerActiveError,
  type WorkerHealth,
  type WorkerRecord,
  type WorkerRepository,
  type WorkerStatus,
  MAX_DELAY_MS,
} from '@pgqrs/core'
import { sql } from 'kysely'
import type { Exec } from '../exec.js'
import { num, type Row, toWorker } from '../row-mappers.js'

const COLUMNS = [
  'id',
  'name',
  'queue_id',
  'hostname',
  'pid',
  'instance',
  'status',
  'started_at',
  'heartbeat_at',
  'shutdown_at',
] as const
const COLS = sql.raw(COLUMNS.join(', '))

/** The worker registry; every status change is one conditional statement. @internal */
export class KyselyWorkerRepository implements WorkerRepository {
  readonly #x: Exec
  constructor(exec: Exec) {
    this.#x = exec
  }

  async register(worker: RegisterWorker): Promise<WorkerRecord> {
    validateName('worker', worker?.name)
    if (worker.queue !== undefined && worker.queue !== null) validateName('queue', worker.queue)
    validateText('hostname', worker.hostname, 255)
    validateInt('pid', worker.pid, 0, 2_147_483_647)
    const instance = worker.instance ?? null
    if (instance !== null) validateText('instance', instance, 128)
    const { f } = this.#x
    const queueId = worker.queue
      ? sql`(select id from ${f.t('pgqrs_queues')} where name = ${worker.queue})`
      : sql`null`
    return this.#x.write1('workers.register', async (db) => {
      // New name: insert. Stopped name: reuse the row. Live name: nothing changes (checked below).
      const r = await sql<Row>`insert into ${f.t('pgqrs_workers')} as w
          (name, queue_id, hostname, pid, instance, status, started_at, heartbeat_at)
        values (${worker.name}, ${queueId}, ${worker.hostname}, ${worker.pid}, ${instance}, 'ready',
          ${f.now()}, ${f.now()})
        on conflict (name) do update set queue_id = excluded.queue_id, hostname = excluded.hostname,
          pid = excluded.pid, instance = excluded.instance, status = 'ready',
          started_at = excluded.started_at,
          heartbeat_at = excluded.heartbeat_at, shutdown_at = null
        where w.status = 'stopped'${
          worker.takeOverAfterMs === undefined
            ? sql``
            : sql` or w.heartbeat_at <= ${f.nowPlus(-validateInt('takeOverAfterMs', worker.takeOverAfterMs, 0, MAX_DELAY_MS))}`
        }
        returning ${COLS}`.execute(db)
      if (r.rows[0]) return toWorker(r.rows[0])
      const cur =
        await sql<Row>`select status from ${f.t('pgqrs_workers')} where name = ${worker.name}`.execute(
          db,
        )
      throw new WorkerActiveError(worker.name, String(cur.rows[0]?.status ?? 'unknown'))
    })
  }

  async get(id: number): Promise<WorkerRecord | null> {
    validateInt('id', id, 1)
    const { f } = this.#x
    return this.#x.read('workers.get', async (db) => {
      const row = await f
        .q(db)
        .selectFrom('pgqrs_workers')
        .select(COLUMNS)
        .where('id', '=', id)
        .executeTakeFirst()
      return row ? toWorker(row) : null
    })
  }

  async getByName(name: string): Promise<WorkerRecord | null> {
    validateName('worker', name)
    const { f } = this.#x
    return this.#x.read('workers.getByName', async (db) => {
      const row = await f
        .q(db)
        .selectFrom('pgqrs_workers')
        .select(COLUMNS)
        .where('name', '=', name)
        .executeTakeFirst()
      return row ? toWorker(row) : null
    })
  }

  async list(options?: ListWorkersOptions): Promise<WorkerRecord[]> {
    const { limit, after } = validatePage(options, 'id')
    const queue = options?.queue
    if (queue !== undefined) validateName('queue', queue)
    const live = options?.live
    if (live !== undefined && typeof live !== 'boolean')
      throw new ValidationError('live', live, 'true (live workers only) or false (stopped only)')
    const { f } = this.#x
    return this.#x.read('workers.list', async (db) => {
      const q = f.q(db)
      let query = q.selectFrom('pgqrs_workers').select(COLUMNS)
      if (queue !== undefined) {
        query = query.where('queue_id', '=', (eb) =>
          eb.selectFrom('pgqrs_queues').select('id').where('name', '=', queue),
        )
      }
      if (live !== undefined) query = query.where('status', live ? '<>' : '=', 'stopped')
      if (after !== undefined) query = query.where('id', '>', after)
      return (await query.orderBy('id').limit(limit).execute()).map(toWorker)
    })
  }

  async purgeStopped(options: { olderThanMs: number; anonymousOnly?: boolean }): Promise<number> {
    if (typeof options !== 'object' || options === null)
      throw new ValidationError('options', options, 'an object with olderThanMs')
    const olderThanMs = validateInt('olderThanMs', options.olderThanMs, 0, MAX_DELAY_MS)
    const { f } = this.#x
    return this.#x.write1('workers.purgeStopped', async (db) => {
      // Stopped rows only: a live worker's row is never removed, whatever its age.
      let query = f
        .q(db)
        .deleteFrom('pgqrs_workers')
        .where('status', '=', 'stopped')
        .where('shutdown_at', '<=', f.nowPlus(-olderThanMs))
      if (options.anonymousOnly) {
        // substr, not LIKE or a range: no pattern characters, and no collation to get wrong.
        query = query.where(
          sql<string>`substr(name, 1, ${ANONYMOUS_WORKER_PREFIX.length})`,
          '=',
          ANONYMOUS_WORKER_PREFIX,
        )
      }
      const r = await query.executeTakeFirst()
      return Number(r.numDeletedRows)
    })
  }

  async heartbeat(id: number): Promise<boolean> {
    validateInt('id', id, 1)
    const { f } = this.#x
    return this.#x.write1('workers.heartbeat', async (db) => {
      const r = await f
        .q(db)
        .updateTable('pgqrs_workers')
        .set({ heartbeat_at: f.now() })
        .where('id', '=', id)
        .executeTakeFirst()
      return Number(r.numUpdatedRows) > 0
    })
  }

  async transition(id: number, to: WorkerStatus): Promise<WorkerRecord> {
    validateInt('id', id, 1)
    if (!WORKER_STATUSES.includes(to))
      throw new ValidationError('status', to, WORKER_STATUSES.join(', '))
    const from = WORKER_TRANSITIONS[to]
    const { f } = this.#x
    return this.#x.write1('workers.transition', async (db) => {
      const shutdown = to === 'stopped' ? sql`${f.now()}` : sql`null`
      const r =
        await sql<Row>`update ${f.t('pgqrs_workers')} set status = ${to}, shutdown_at = ${shutdown}
        where id = ${id} and status in (${sql.join(from)}) returning ${COLS}`.execute(db)
      if (r.rows[0]) return toWorker(r.rows[0])
      const cur =
        await sql<Row>`select status from ${f.t('pgqrs_workers')} where id = ${id}`.execute(db)
      if (!cur.rows[0])
        throw new ValidationError(
          'id',
          id,
          'the id of a registered worker',
          `Worker ${id} does not exist`,
        )
      throw new InvalidStateTransitionError('worker', String(cur.rows[0].status), to, from)
    })
  }

  async markStale(staleAfterMs: number): Promise<number[]> {
    validateInt('staleAfterMs', staleAfterMs, 1, MAX_DELAY_MS)
    const { f } = this.#x
    return this.#x.write1('workers.markStale', async (db) => {
      const rows = await f
        .q(db)
        .updateTable('pgqrs_workers')
        .set({ status: 'stopped', shutdown_at: f.now() })
        .where('status', '<>', 'stopped')
        .where('heartbeat_at', '<', f.nowPlus(-staleAfterMs))
        .returning('id')
        .execute()
      return rows.map((row) => num(row.id)).sort((a, b) => a - b)
    })
  }

  async health(options: { staleAfterMs: number; queue?: string }): Promise<WorkerHealth> {
    validateInt('staleAfterMs', options?.staleAfterMs, 1, MAX_DELAY_MS)
    if (options.queue !== undefined) validateName('queue', options.queue)
    const { f } = this.#x
    const where =
      options.queue === undefined
        ? sql`1 = 1`
        : sql`queue_id = (select id from ${f.t('pgqrs_queues')} where name = ${options.queue})`
    const count = (s: string) => sql`sum(case when status = ${s} then 1 else 0 end)`
    return this.#x.read('workers.health', async (db) => {
      const r = await sql<Row>`select count(*) as total,
          ${count('ready')} as ready, ${count('polling')} as polling, ${count('suspended')} as suspended,
          ${count('interrupted')} as interrupted, ${count('stopped')} as stopped,
          sum(case when status <> 'stopped' and heartbeat_at < ${f.nowPlus(-options.staleAfterMs)} then 1 else 0 end) as stale
        from ${f.t('pgqrs_workers')} where ${where}`.execute(db)
      const row = r.rows[0] ?? {}
      const n = (v: unknown) => (v === null || v === undefined ? 0 : num(v))
      return {
        total: n(row.total),
        ready: n(row.ready),
        polling: n(row.polling),
        suspended: n(row.suspended),
        interrupted: n(row.interrupted),
        stopped: n(row.stopped),
        stale: n(row.stale),
      }
    })
  }

  async delete(id: number): Promise<boolean> {
    validateInt('id', id, 1)
    const { f } = this.#x
    return this.#x.write1('workers.delete', async (db) => {
      const r = await f
        .q(db)
        .deleteFrom('pgqrs_workers')
        .where('id', '=', id)
        .where('status', '=', 'stopped')
        .executeTakeFirst()
      return Number(r.numDeletedRows) > 0
    })
  }
}
