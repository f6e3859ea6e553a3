import {
  type EventRecord,
  type EventRepository,
  LeaseLostError,
  NotFoundError,
  type ResolvedConfig,
  type RunValue,
  type SendEventOptions,
  type SentEvent,
  ValidationError,
  validateEventName,
  validateIdempotencyKey,
  validateInstant,
  validateInt,
  validateName,
} from '@pgqrs/core'
import { sql } from 'kysely'
import type { Db, Exec } from '../exec.js'
import { checkLease } from '../fence.js'
import { date, num, type Row, toEvent } from '../row-mappers.js'
import { jsonText } from './json-value.js'

/**
 * Events into runs and values out of them (`pgqrs_events`, `pgqrs_run_values`, migration 0004).
 * The statements are the same on both families; where they differ (row locks, NOTIFY) the family
 * gives a fragment. @internal
 */
export class KyselyEventRepository implements EventRepository {
  readonly #x: Exec
  readonly #config: ResolvedConfig

  constructor(exec: Exec, config: ResolvedConfig) {
    this.#x = exec
    this.#config = config
  }

  /**
   * The fence inside a write transaction: the run's message is leased with `lease` (locked FOR
   * SHARE on Postgres until commit). `NotFoundError` for an unknown run, `LeaseLostError` for a
   * lease that is not current; null (an operator's write) only checks that the run exists.
   */
  async #fence(db: Db, runId: number, lease: string | null): Promise<number> {
    const { f } = this.#x
    const run =
      await sql<Row>`select message_id from ${f.t('pgqrs_runs')} where id = ${runId}`.execute(db)
    if (!run.rows[0]) throw new NotFoundError('run', runId)
    const messageId = num(run.rows[0].message_id)
    if (lease === null) return messageId
    if (!f.isLeaseToken(lease)) throw new LeaseLostError(messageId, 'write')
    const r = await sql<Row>`select 1 as ok from ${f.t('pgqrs_messages')} where id = ${messageId}
      and lease = ${f.lease(lease)} ${f.lock('share')}`.execute(db)
    if (!r.rows[0]) throw new LeaseLostError(messageId, 'write')
    return messageId
  }

  async send(
    runId: number,
    name: string,
    payload: unknown,
    options: SendEventOptions = {},
  ): Promise<SentEvent> {
    validateInt('runId', runId, 1)
    validateEventName(name)
    if (payload === undefined)
      throw new ValidationError('payload', payload, 'a JSON value (null included), not undefined')
    const key = validateIdempotencyKey(options?.idempotencyKey)
    const text = jsonText(payload, this.#config)!
    const { f } = this.#x
    return this.#x.write('events.send', async (db) => {
      const run = await sql<Row>`select r.message_id, w.name as queue from ${f.t('pgqrs_runs')} r
        join ${f.t('pgqrs_workflows')} w on w.id = r.workflow_id where r.id = ${runId}`.execute(db)
      if (!run.rows[0]) throw new NotFoundError('run', runId)
      const messageId = num(run.rows[0].message_id)
      const queue = String(run.rows[0].queue)
      // Lock the run's message first (Postgres): a wait that is settling holds it FOR SHARE, so
      // either that wait commits first (then we see its released message and wake it) or we do
      // (then its settle sees this event and releases the message at once).
      await sql`select id from ${f.t('pgqrs_messages')} where id = ${messageId} ${f.lock('update')}`.execute(
        db,
      )
      const ins = await sql<Row>`insert into ${f.t('pgqrs_events')}
          (run_id, name, payload, idempotency_key, created_at)
        values (${runId}, ${name}, ${f.json(text)}, ${key}, ${f.now()})
        on conflict (run_id, idempotency_key) do nothing
        returning id`.execute(db)
      const byKey = sql`e.run_id = ${runId} and e.idempotency_key = ${key}`
      const read = await sql<Row>`select ${f.columns.event('e')} from ${f.t('pgqrs_events')} e
        where ${ins.rows[0] ? sql`e.id = ${num(ins.rows[0].id)}` : byKey}`.execute(db)
      if (!ins.rows[0]) return { event: toEvent(read.rows[0]!), created: false, woke: false }
      const woke = await sql`update ${f.t('pgqrs_messages')} set visible_at = ${f.now()}
        where id = ${messageId} and lease is null and visible_at > ${f.now()}
          and exists (select 1 from ${f.t('pgqrs_steps')} s where s.run_id = ${runId}
            and s.status = 'RUNNING' and s.wait_event = ${name})`.execute(db)
      const didWake = Number(woke.numAffectedRows ?? 0n) > 0
      const notify = f.notify(queue)
      if (didWake && notify) await notify.execute(db)
      return { event: toEvent(read.rows[0]!), created: true, woke: didWake }
    })
  }

  async consume(
    runId: number,
    name: string,
    stepKey: string,
    lease: string | null,
  ): Promise<{ readonly payload: unknown } | null> {
    validateInt('runId', runId, 1)
    validateEventName(name)
    validateName('step', stepKey)
    checkLease(lease)
    const { f } = this.#x
    return this.#x.write('events.consume', async (db) => {
      await this.#fence(db, runId, lease)
      const ev = await sql<Row>`select id, ${f.jsonColumn('payload')} as payload
        from ${f.t('pgqrs_events')} where run_id = ${runId} and name = ${name}
          and consumed_at is null order by id limit 1 ${f.lock('update')}`.execute(db)
      const row = ev.rows[0]
      if (!row) return null
      const payloadText = String(row.payload)
      const step = await sql`update ${f.t('pgqrs_steps')} set status = 'SUCCESS',
          output = ${f.json(`{"received":true,"payload":${payloadText}}`)}, wait_event = null,
          retry_at = null, error = null, completed_at = ${f.now()}
        where run_id = ${runId} and step_key = ${stepKey} and status = 'RUNNING'`.execute(db)
      if (Number(step.numAffectedRows ?? 0n) === 0) return null
      await sql`update ${f.t('pgqrs_events')} set consumed_at = ${f.now()}, consumed_by = ${stepKey}
        where id = ${num(row.id)}`.execute(db)
      return { payload: JSON.parse(payloadText) as unknown }
    })
  }

  async markWaiting(
    runId: number,
    stepKey: string,
    name: string,
    deadline: Date,
    lease: string | null,
  ): Promise<boolean> {
    validateInt('runId', runId, 1)
    validateName('step', stepKey)
    validateEventName(name)
    const at = validateInstant('deadline', deadline)
    checkLease(lease)
    const { f } = this.#x
    return this.#x.write('events.markWaiting', async (db) => {
      await this.#fence(db, runId, lease)
      const r =
        await sql`update ${f.t('pgqrs_steps')} set wait_event = ${name}, retry_at = ${f.time(at)}
        where run_id = ${runId} and step_key = ${stepKey} and status = 'RUNNING'`.execute(db)
      return Number(r.numAffectedRows ?? 0n) > 0
    })
  }

  async pending(runId: number, name: string): Promise<boolean> {
    validateInt('runId', runId, 1)
    validateEventName(name)
    const { f } = this.#x
    return this.#x.read('events.pending', async (db) => {
      const r = await sql<Row>`select 1 as ok from ${f.t('pgqrs_events')}
        where run_id = ${runId} and name = ${name} and consumed_at is null limit 1`.execute(db)
      return r.rows.length > 0
    })
  }

  async list(runId: number, options: { readonly limit?: number } = {}): Promise<EventRecord[]> {
    validateInt('runId', runId, 1)
    const limit =
      options?.limit === undefined ? null : validateInt('limit', options.limit, 1, 10_000)
    const { f } = this.#x
    return this.#x.read('events.list', async (db) => {
      const r = await sql<Row>`select ${f.columns.event('e')} from ${f.t('pgqrs_events')} e
        where e.run_id = ${runId} order by e.id
        ${limit === null ? sql`` : sql`limit ${limit}`}`.execute(db)
      return r.rows.map(toEvent)
    })
  }

  async setValue(runId: number, key: string, value: unknown, lease: string | null): Promise<void> {
    validateInt('runId', runId, 1)
    validateEventName(key, 'value key')
    if (value === undefined)
      throw new ValidationError('value', value, 'a JSON value (null included), not undefined')
    checkLease(lease)
    const text = jsonText(value, this.#config)!
    const { f } = this.#x
    await this.#x.write('events.setValue', async (db) => {
      await this.#fence(db, runId, lease)
      await sql`insert into ${f.t('pgqrs_run_values')} (run_id, key, value, updated_at)
        values (${runId}, ${key}, ${f.json(text)}, ${f.now()})
        on conflict (run_id, key) do update set value = excluded.value,
          updated_at = excluded.updated_at`.execute(db)
      const notify = f.notify(`value:${runId}`)
      if (notify) await notify.execute(db)
    })
  }

  async getValue(runId: number, key: string): Promise<{ readonly value: unknown } | null> {
    validateInt('runId', runId, 1)
    validateEventName(key, 'value key')
    const { f } = this.#x
    return this.#x.read('events.getValue', async (db) => {
      const r = await sql<Row>`select ${f.jsonColumn('value')} as value
        from ${f.t('pgqrs_run_values')} where run_id = ${runId} and key = ${key}`.execute(db)
      return r.rows[0] ? { value: JSON.parse(String(r.rows[0].value)) as unknown } : null
    })
  }

  async values(runId: number, options: { readonly limit?: number } = {}): Promise<RunValue[]> {
    validateInt('runId', runId, 1)
    const limit = validateInt('limit', options?.limit ?? 100, 1, 1000)
    const { f } = this.#x
    return this.#x.read('events.values', async (db) => {
      const r = await sql<Row>`select key, ${f.jsonColumn('value')} as value, updated_at
        from ${f.t('pgqrs_run_values')} where run_id = ${runId}
        order by key limit ${limit}`.execute(db)
      return r.rows.map((row) => ({
        key: String(row.key),
        value: JSON.parse(String(row.value)) as unknown,
        updatedAt: date(row.updated_at),
      }))
    })
  }
}
