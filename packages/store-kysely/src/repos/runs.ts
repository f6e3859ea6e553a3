import {
  ConflictError,
  InvalidStateTransitionError,
  LeaseLostError,
  type ListRunsOptions,
  type QueueMessage,
  RUN_STATUSES,
  RUN_TRANSITIONS,
  type ResolvedConfig,
  type RunRecord,
  type RunEnding,
  type RunRepository,
  type RunStatus,
  type RunTransition,
  type StartRunOptions,
  TERMINAL_RUN_STATUSES,
  ValidationError,
  validateDate,
  validateInt,
  validateName,
  WorkflowNotFoundError,
} from '@pgqrs/core'
import { sql } from 'kysely'
import { messageColumns, runColumns } from '../columns.js'
import type { Db } from '../dialect.js'
import type { Exec } from '../exec.js'
import { num, type Row, toMessage, toRun } from '../row-mappers.js'
import { pgInsertMessages } from '../sql/postgres-messages.js'
import { sqliteInsertMessages, sqliteMoveToArchive } from '../sql/sqlite-messages.js'
import { explainFence, fenceRun, neverCurrent } from './fence.js'
import { jsonText } from './json-value.js'
import { prepareItems } from './message-input.js'

/** A validated run change, shared by the Postgres and sqlite paths. */
interface Change {
  readonly to: RunStatus
  readonly from: readonly RunStatus[]
  /** JSON text to store, or undefined to leave the column as it is. */
  readonly output: string | null | undefined
  readonly error: string | null | undefined
  /** undefined: the status decides (kept while SLEEPING/PAUSED, cleared otherwise). */
  readonly wakeAt: Date | null | undefined
  readonly lease: string | null
  readonly refused: (db: Db) => Promise<never>
}

/** Workflow runs. @internal */
export class KyselyRunRepository implements RunRepository {
  readonly #x: Exec
  readonly #config: ResolvedConfig
  readonly #channel: string | null

  constructor(exec: Exec, config: ResolvedConfig, channel: string | null) {
    this.#x = exec
    this.#config = config
    this.#channel = channel
  }

  #select(where: ReturnType<typeof sql>) {
    const { d } = this.#x
    return sql<Row>`select ${runColumns(d.family, 'r')} from ${d.t('pgqrs_runs')} r
      join ${d.t('pgqrs_workflows')} w on w.id = r.workflow_id where ${where}`
  }

  async #messageOf(db: Db, id: number, queue: string): Promise<QueueMessage> {
    const { d } = this.#x
    const r =
      await sql<Row>`select ${messageColumns(d.family, 'm')} from ${d.t('pgqrs_messages')} m where m.id = ${id}
      union all select ${messageColumns(d.family, 'a', true)} from ${d.t('pgqrs_archive')} a where a.id = ${id}`.execute(
        db,
      )
    return toMessage(r.rows[0]!, queue)
  }

  async start(workflow: string, input: unknown, options: StartRunOptions = {}) {
    validateName('workflow', workflow)
    const key = options.idempotencyKey ?? null
    if (
      key !== null &&
      (typeof key !== 'string' ||
        key.length < 1 ||
        key.length > 512 ||
        key.includes('\u0000') ||
        !key.isWellFormed())
    ) {
      // a lone surrogate would be stored as U+FFFD and collide with another key
      throw new ValidationError(
        'idempotencyKey',
        key,
        'a string of 1-512 characters of well-formed Unicode without NUL',
      )
    }
    const [item] = prepareItems(
      [
        {
          payload: input === undefined ? {} : { input },
          delayMs: options.delayMs,
          priority: options.priority,
        },
      ],
      this.#config,
    )
    const inputText = jsonText(input, this.#config)
    const attempt = () =>
      this.#x.write('runs.start', async (db) => {
        const { d } = this.#x
        const wf =
          await sql<Row>`select id, queue_id from ${d.t('pgqrs_workflows')} where name = ${workflow}`.execute(
            db,
          )
        if (!wf.rows[0]) throw new WorkflowNotFoundError(workflow)
        const workflowId = num(wf.rows[0].id)
        if (key !== null) {
          const existing = await this.#select(
            sql`r.workflow_id = ${workflowId} and r.idempotency_key = ${key}`,
          ).execute(db)
          if (existing.rows[0]) {
            const run = toRun(existing.rows[0])
            return {
              run,
              message: await this.#messageOf(db, run.messageId, workflow),
              created: false,
            }
          }
        }
        const [message] =
          d.family === 'postgres'
            ? await pgInsertMessages(db, d, workflow, [item!], null, this.#channel)
            : await sqliteInsertMessages(db, d, num(wf.rows[0].queue_id), workflow, [item!], null)
        const r = await sql<Row>`insert into ${d.t('pgqrs_runs')}
            (workflow_id, message_id, status, input, idempotency_key, created_at, updated_at)
          values (${workflowId}, ${message!.id}, 'QUEUED', ${d.json(inputText)}, ${key}, ${d.now()}, ${d.now()})
          returning id`.execute(db)
        const run = await this.#select(sql`r.id = ${num(r.rows[0]!.id)}`).execute(db)
        return { run: toRun(run.rows[0]!), message: message!, created: true }
      })
    try {
      return await attempt()
    } catch (e) {
      // Two starts with one idempotency key at once: the loser rolled back; now it finds the winner.
      if (key !== null && ConflictError.is(e)) return attempt()
      throw e
    }
  }

  async getOrCreateForMessage(message: QueueMessage): Promise<RunRecord> {
    if (typeof message !== 'object' || message === null)
      throw new ValidationError('message', message, 'a QueueMessage')
    validateInt('message.id', message.id, 1)
    validateName('workflow', message.queue)
    const payload = message.payload as { input?: unknown } | null
    const input =
      payload !== null && typeof payload === 'object' && 'input' in payload
        ? payload.input
        : undefined
    const inputText = jsonText(input, this.#config)
    const { d } = this.#x
    // The run usually exists (start() creates it with its message): one read, no write.
    const existing = await this.getByMessage(message.id)
    if (existing) return existing
    return this.#x.write1('runs.getOrCreateForMessage', async (db) => {
      await sql`insert into ${d.t('pgqrs_runs')} (workflow_id, message_id, status, input, created_at, updated_at)
        select w.id, ${message.id}, 'QUEUED', ${d.json(inputText)}, ${d.now()}, ${d.now()}
        from ${d.t('pgqrs_workflows')} w where w.name = ${message.queue}
        on conflict (message_id) do nothing`.execute(db)
      const r = await this.#select(sql`r.message_id = ${message.id}`).execute(db)
      if (!r.rows[0]) throw new WorkflowNotFoundError(message.queue)
      return toRun(r.rows[0])
    })
  }

  async get(id: number): Promise<RunRecord | null> {
    validateInt('id', id, 1)
    return this.#x.read('runs.get', async (db) => {
      const r = await this.#select(sql`r.id = ${id}`).execute(db)
      return r.rows[0] ? toRun(r.rows[0]) : null
    })
  }

  async getByMessage(messageId: number): Promise<RunRecord | null> {
    validateInt('messageId', messageId, 1)
    return this.#x.read('runs.getByMessage', async (db) => {
      const r = await this.#select(sql`r.message_id = ${messageId}`).execute(db)
      return r.rows[0] ? toRun(r.rows[0]) : null
    })
  }

  async list(options: ListRunsOptions = {}): Promise<RunRecord[]> {
    const conds = [sql`1 = 1`]
    const { d } = this.#x
    if (options.workflow !== undefined)
      conds.push(sql`w.name = ${validateName('workflow', options.workflow)}`)
    if (options.status !== undefined) {
      const list = (
        Array.isArray(options.status) ? options.status : [options.status]
      ) as RunStatus[]
      for (const s of list)
        if (!RUN_STATUSES.includes(s))
          throw new ValidationError('status', s, RUN_STATUSES.join(', '))
      if (list.length > 0) conds.push(sql`r.status in (${sql.join(list)})`)
    }
    if (options.since !== undefined)
      conds.push(sql`r.created_at >= ${d.time(validateDate('since', options.since))}`)
    const limit = validateInt('limit', options.limit ?? 100, 1, 10_000)
    return this.#x.read('runs.list', async (db) => {
      const r = await sql<Row>`select ${runColumns(d.family, 'r')} from ${d.t('pgqrs_runs')} r
        join ${d.t('pgqrs_workflows')} w on w.id = r.workflow_id
        where ${sql.join(conds, sql` and `)} order by r.id desc limit ${limit}`.execute(db)
      return r.rows.map(toRun)
    })
  }

  /**
   * Validates a change once for both families: its JSON serialised, its wake time checked, the
   * statuses it may leave, and the refusal explainer.
   */
  #change(id: number, change: RunTransition): Change {
    validateInt('id', id, 1)
    const to = change?.to
    if (!RUN_STATUSES.includes(to)) throw new ValidationError('to', to, RUN_STATUSES.join(', '))
    const from = RUN_TRANSITIONS[to]
    const { d } = this.#x
    const json = (v: unknown) => (v === undefined ? undefined : jsonText(v, this.#config))
    const wakeAt =
      change.wakeAt === undefined || change.wakeAt === null
        ? change.wakeAt
        : validateDate('wakeAt', change.wakeAt)
    const lease = change.lease ?? null
    const refused = async (db: Db): Promise<never> => {
      await explainFence(db, d, id, lease) // NotFoundError or LeaseLostError when that is why
      const cur = await sql<Row>`select status from ${d.t('pgqrs_runs')} where id = ${id}`.execute(
        db,
      )
      throw new InvalidStateTransitionError('run', String(cur.rows[0]?.status), to, from)
    }
    return {
      to,
      from,
      output: json(change.output),
      error: json(change.error),
      wakeAt,
      lease,
      refused,
    }
  }

  /**
   * Postgres: `runs.transition` and `runs.end` as one call of `pgqrs_run_transition` (migration
   * 0005), which applies the same change as the sqlite path's SET list, fenced and guarded, and
   * with `archive` moves the run's message to the archive in the same statement.
   */
  #pgTransition(id: number, c: Change, archive: boolean): Promise<RunRecord> {
    const { d } = this.#x
    const { to, from, output, error, wakeAt, lease, refused } = c
    const op = archive ? 'runs.end' : 'runs.transition'
    if (neverCurrent(lease)) return this.#x.write1(op, (db) => refused(db))
    return this.#x.write1(op, async (db) => {
      try {
        const r = await sql<Row>`select ${runColumns(d.family, '(f.run)', false)}, f.workflow_name
          from ${d.t('pgqrs_run_transition')}(${id}::bigint, ${to}, ${from}::text[],
            ${lease !== null}, ${lease}::uuid, ${output !== undefined}, ${output ?? null}::jsonb,
            ${error !== undefined}, ${error ?? null}::jsonb, ${wakeAt !== undefined},
            ${wakeAt ? wakeAt.toISOString() : null}::timestamptz, ${this.#channel}::text,
            ${archive}) f`.execute(db)
        if (r.rows[0]) return toRun(r.rows[0])
      } catch (e) {
        // P0004: the message could not be archived (its lease is gone); the run change rolled back
        if ((e as { code?: unknown }).code !== 'P0004') throw e
      }
      return refused(db)
    })
  }

  /**
   * The sqlite family: fence, guarded update and (with `archive`) the move of the run's message,
   * in one write transaction under the single writer.
   */
  #sqliteTransition(id: number, c: Change, archive: boolean): Promise<RunRecord> {
    const { d } = this.#x
    const { to, from, output, error, wakeAt, lease, refused } = c
    const sets = [sql`status = ${to}`, sql`updated_at = ${d.now()}`]
    if (output !== undefined) sets.push(sql`output = ${d.json(output)}`)
    if (error !== undefined) sets.push(sql`error = ${d.json(error)}`)
    if (wakeAt !== undefined) sets.push(sql`wake_at = ${d.time(wakeAt)}`)
    else if (to !== 'SLEEPING' && to !== 'PAUSED') sets.push(sql`wake_at = null`)
    if (to === 'RUNNING') sets.push(sql`started_at = coalesce(started_at, ${d.now()})`)
    // a paused run's pause note is not an error once it runs again
    if (to === 'RUNNING' && error === undefined) sets.push(sql`error = null`)
    if (TERMINAL_RUN_STATUSES.includes(to)) sets.push(sql`completed_at = ${d.now()}`)
    const allowed = sql.join(from.length > 0 ? [...from] : ['-'])
    return this.#x.write(archive ? 'runs.end' : 'runs.transition', async (db) => {
      const messageId = await fenceRun(db, d, id, lease)
      const r = await sql<Row>`update ${d.t('pgqrs_runs')} set ${sql.join(sets)}
        where id = ${id} and status in (${allowed}) returning id`.execute(db)
      if (!r.rows[0]) return refused(db)
      if (archive && lease !== null) {
        const moved = await sqliteMoveToArchive(db, d, [messageId], [lease])
        if (moved.size === 0) throw new LeaseLostError(messageId, 'end') // rolls the run back too
      }
      const run = await this.#select(sql`r.id = ${id}`).execute(db)
      return toRun(run.rows[0]!)
    })
  }

  async transition(id: number, change: RunTransition): Promise<RunRecord> {
    const c = this.#change(id, change)
    if (this.#x.d.family === 'postgres') return this.#pgTransition(id, c, false)
    return this.#sqliteTransition(id, c, false)
  }

  async end(id: number, ending: RunEnding): Promise<RunRecord> {
    if (!TERMINAL_RUN_STATUSES.includes(ending?.to))
      throw new ValidationError('to', ending?.to, TERMINAL_RUN_STATUSES.join(', '))
    if (typeof ending.lease !== 'string' || ending.lease.length === 0)
      throw new ValidationError('lease', ending.lease, "the lease token of the run's message")
    const c = this.#change(id, ending)
    if (this.#x.d.family === 'postgres') return this.#pgTransition(id, c, true)
    return this.#sqliteTransition(id, c, true)
  }
}
