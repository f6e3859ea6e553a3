import {
  type DueSchedules,
  type PageOptions,
  type ScheduleInput,
  type ScheduleRecord,
  type ScheduleRepository,
  validateName,
  validatePage,
} from '@pgqrs/core'
import { type RawBuilder, sql } from 'kysely'
import type { Db, Exec } from '../exec.js'
import { date, json, num, type Row } from '../row-mappers.js'

const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v))

/** A stored schedule row as a {@link ScheduleRecord}. */
function toSchedule(r: Row): ScheduleRecord {
  return {
    id: num(r.id),
    name: String(r.name),
    cron: String(r.cron),
    timezone: r.timezone === null || r.timezone === undefined ? null : String(r.timezone),
    kind: r.kind === 'workflow' ? 'workflow' : 'queue',
    target: String(r.target),
    payload: json(r.payload),
    overlap: r.overlap === 'skip' ? 'skip' : 'allow',
    catchUp: r.catch_up === 'all' ? 'all' : r.catch_up === 'latest' ? 'latest' : 'none',
    nextRunAt: date(r.next_run_at),
    revision: num(r.revision),
    pausedAt: dateOrNull(r.paused_at),
    lastTickAt: dateOrNull(r.last_tick_at),
    lastMessageId: r.last_message_id === null ? null : num(r.last_message_id),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  }
}

/**
 * Cron schedules over `pgqrs_schedules`; every statement runs on both families (times through the
 * family's fragments). @internal
 */
export class KyselyScheduleRepository implements ScheduleRepository {
  readonly #x: Exec
  constructor(exec: Exec) {
    this.#x = exec
  }

  /** The schedule columns, qualified by `alias` (unqualified when empty: RETURNING). */
  #cols(alias = ''): RawBuilder<unknown> {
    const a = alias ? `${alias}.` : ''
    return sql`${sql.raw(`${a}id, ${a}name, ${a}cron, ${a}timezone, ${a}kind, ${a}target`)},
      ${this.#x.f.jsonColumn(`${a}payload`)} as payload,
      ${sql.raw(`${a}overlap, ${a}catch_up, ${a}next_run_at, ${a}revision, ${a}paused_at,
      ${a}last_tick_at, ${a}last_message_id, ${a}created_at, ${a}updated_at`)}`
  }

  async upsert(input: ScheduleInput): Promise<ScheduleRecord> {
    validateName('schedule', input.name)
    const { f } = this.#x
    const payload = input.payload === undefined ? null : JSON.stringify(input.payload)
    return this.#x.write1('schedules.upsert', async (db) => {
      // One statement; the next tick is kept unless the pattern or time zone changed, so that
      // defining the schedule again at every start-up keeps the ticks it missed meanwhile.
      const r = await sql<Row>`
        insert into ${f.t('pgqrs_schedules')} (name, cron, timezone, kind, target, payload,
          overlap, catch_up, next_run_at, created_at, updated_at)
        values (${input.name}, ${input.cron}, ${input.timezone}, ${input.kind}, ${input.target},
          ${f.json(payload)}, ${input.overlap}, ${input.catchUp}, ${f.time(input.nextRunAt)},
          ${f.now()}, ${f.now()})
        on conflict (name) do update set
          next_run_at = case when pgqrs_schedules.cron = excluded.cron
            and coalesce(pgqrs_schedules.timezone, '') = coalesce(excluded.timezone, '')
            then pgqrs_schedules.next_run_at else excluded.next_run_at end,
          cron = excluded.cron, timezone = excluded.timezone, kind = excluded.kind,
          target = excluded.target, payload = excluded.payload, overlap = excluded.overlap,
          catch_up = excluded.catch_up, revision = pgqrs_schedules.revision + 1,
          updated_at = excluded.updated_at
        returning ${this.#cols()}`.execute(db)
      return toSchedule(r.rows[0]!)
    })
  }

  async get(name: string): Promise<ScheduleRecord | null> {
    validateName('schedule', name)
    const { f } = this.#x
    return this.#x.read('schedules.get', async (db) => {
      const r = await sql<Row>`select ${this.#cols('s')} from ${f.t('pgqrs_schedules')} s
        where s.name = ${name}`.execute(db)
      return r.rows[0] ? toSchedule(r.rows[0]) : null
    })
  }

  async list(options?: PageOptions<string>): Promise<ScheduleRecord[]> {
    const { limit, after } = validatePage(options, 'name')
    const { f } = this.#x
    return this.#x.read('schedules.list', async (db) => {
      const where = after === undefined ? sql`1 = 1` : sql`s.name > ${after}`
      const r = await sql<Row>`select ${this.#cols('s')} from ${f.t('pgqrs_schedules')} s
        where ${where} order by s.name limit ${limit}`.execute(db)
      return r.rows.map(toSchedule)
    })
  }

  async setPaused(name: string, paused: boolean, nextRunAt?: Date): Promise<ScheduleRecord | null> {
    validateName('schedule', name)
    const { f } = this.#x
    return this.#x.write1('schedules.setPaused', async (db) => {
      const set = paused
        ? sql`paused_at = coalesce(paused_at, ${f.now()})`
        : sql`paused_at = null, next_run_at = coalesce(${f.time(nextRunAt ?? null)}, next_run_at)`
      const r = await sql<Row>`update ${f.t('pgqrs_schedules')}
        set ${set}, revision = revision + 1, updated_at = ${f.now()}
        where name = ${name} returning ${this.#cols()}`.execute(db)
      return r.rows[0] ? toSchedule(r.rows[0]) : null
    })
  }

  async delete(name: string): Promise<boolean> {
    validateName('schedule', name)
    const { f } = this.#x
    return this.#x.write1('schedules.delete', async (db) => {
      const r = await sql`delete from ${f.t('pgqrs_schedules')} where name = ${name}`.execute(db)
      return Number(r.numAffectedRows ?? 0) > 0
    })
  }

  async due(limit: number): Promise<DueSchedules> {
    const { f } = this.#x
    return this.#x.read('schedules.due', async (db: Db) => {
      // The earliest running schedules by the partial index `pgqrs_schedules_due`: the due ones,
      // and the first one not due yet (when the scheduler wakes next). One statement per poll,
      // whatever the number of schedules.
      const r = await sql<Row>`select ${this.#cols('s')}, n.t as db_now
        from (select ${f.now()} as t) n
        left join ${f.t('pgqrs_schedules')} s on s.paused_at is null
        order by s.next_run_at limit ${limit}`.execute(db)
      const now = r.rows[0] ? date(r.rows[0].db_now) : null
      const due: ScheduleRecord[] = []
      let nextRunAt: Date | null = null
      for (const row of r.rows) {
        if (row.id === null || row.id === undefined || now === null) continue
        const s = toSchedule(row)
        if (s.nextRunAt.getTime() <= now.getTime()) due.push(s)
        else if (nextRunAt === null) nextRunAt = s.nextRunAt
      }
      return { now, due, nextRunAt }
    })
  }

  async claim(
    name: string,
    revision: number,
    nextRunAt: Date,
    lastTickAt: Date | null,
  ): Promise<boolean> {
    const { f } = this.#x
    return this.#x.write1('schedules.claim', async (db) => {
      // Compare-and-set: of the schedulers that read this revision, exactly one moves it on (a
      // concurrent one waits for the row lock on Postgres, then finds the revision changed).
      const r = await sql`update ${f.t('pgqrs_schedules')} set next_run_at = ${f.time(nextRunAt)},
          last_tick_at = coalesce(${f.time(lastTickAt)}, last_tick_at), revision = revision + 1, updated_at = ${f.now()}
        where name = ${name} and revision = ${revision} and paused_at is null`.execute(db)
      return Number(r.numAffectedRows ?? 0) === 1
    })
  }

  async recordMessage(name: string, messageId: number): Promise<void> {
    const { f } = this.#x
    await this.#x.write1('schedules.recordMessage', async (db) => {
      await sql`update ${f.t('pgqrs_schedules')} set last_message_id = ${messageId}
        where name = ${name}`.execute(db)
    })
  }
}
