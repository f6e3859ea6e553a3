import {
  ConflictError,
  InvalidStateTransitionError,
  type ListRunsOptions,
  type QueueMessage,
  type RunCount,
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
  validateInstant,
  workflowQueue,
} from '@pgqrs/core'
import { sql } from 'kysely'
import type { Db, Exec } from '../exec.js'
import type { RunChange } from '../family.js'
import { checkLease, explainFence } from '../fence.js'
import { num, type Row, toMessage, toRun } from '../row-mappers.js'
import { jsonText } from './json-value.js'
import { prepareItems } from './message-input.js'

/**
 * Workflow runs. The guarded, fenced status change is the family's (`RunSql`); validating it,
 * starting runs and reading them is SQL both families share. @internal
 */
export class KyselyRunRepository implements RunRepository {
  readonly #x: Exec
  readonly #config: ResolvedConfig

  constructor(exec: Exec, config: ResolvedConfig) {
    this.#x = exec
    this.#config = config
  }

  #select(where: ReturnType<typeof sql>) {
    const { f } = this.#x
    return sql<Row>`select ${f.columns.run('r')} from ${f.t('pgqrs_runs')} r
      join ${f.t('pgqrs_workflows')} w on w.id = r.workflow_id where ${where}`
  }

  async #messageOf(db: Db, id: number, queue: string): Promise<QueueMessage> {
    const { f } = this.#x
    const r = await sql<Row>`
      select ${f.columns.message('m')} from ${f.t('pgqrs_messages')} m where m.id = ${id}
      union all
      select ${f.columns.message('a', true)} from ${f.t('pgqrs_archive')} a where a.id = ${id}`.execute(
      db,
    )
    return toMessage(r.rows[0]!, queue)
  }

  async start(workflow: string, input: unknown, options: StartRunOptions = {}) {
    validateName('workflow', workflow)
    const deadline =
      options.deadline === undefined || options.deadline === null
        ? null
        : validateInstant('deadline', options.deadline)
    const version = options.version ?? 1
    const queue = workflowQueue(workflow, version)
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
          headers: options.headers,
        },
      ],
      this.#config,
    )
    const inputText = jsonText(input, this.#config)
    const parent = checkParent(options.parent)
    const attempt = () =>
      this.#x.write('runs.start', async (db) => {
        const { f } = this.#x
        const wf =
          await sql<Row>`select id from ${f.t('pgqrs_workflows')} where name = ${workflow}`.execute(
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
              message: await this.#messageOf(
                db,
                run.messageId,
                workflowQueue(workflow, run.version),
              ),
              created: false,
            }
          }
        }
        const [message] = await f.messages.insert(db, queue, [item!], null)
        if (item!.headersText !== null)
          await sql`insert into ${f.t('pgqrs_message_headers')} (message_id, headers)
            values (${message!.id}, ${f.json(item!.headersText)})`.execute(db)
        const r = await sql<Row>`insert into ${f.t('pgqrs_runs')}
            (workflow_id, message_id, status, input, idempotency_key, deadline_at, version,
              parent_id, parent_step, created_at, updated_at)
          values (${workflowId}, ${message!.id}, 'QUEUED', ${f.json(inputText)}, ${key}, ${f.time(deadline)}, ${version},
            ${parent?.runId ?? null}, ${parent?.stepKey ?? null}, ${f.now()}, ${f.now()})
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
    const { f } = this.#x
    // The run usually exists (start() creates it with its message): one read, no write.
    const existing = await this.getByMessage(message.id)
    if (existing) return existing
    return this.#x.write1('runs.getOrCreateForMessage', async (db) => {
      await sql`insert into ${f.t('pgqrs_runs')} (workflow_id, message_id, status, input, created_at, updated_at)
        select w.id, ${message.id}, 'QUEUED', ${f.json(inputText)}, ${f.now()}, ${f.now()}
        from ${f.t('pgqrs_workflows')} w where w.name = ${message.queue}
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
    const { f } = this.#x
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
    if (options.parentId !== undefined)
      conds.push(sql`r.parent_id = ${validateInt('parentId', options.parentId, 1)}`)
    if (options.since !== undefined)
      conds.push(sql`r.created_at >= ${f.time(validateDate('since', options.since))}`)
    const limit = validateInt('limit', options.limit ?? 100, 1, 10_000)
    return this.#x.read('runs.list', async (db) => {
      const r = await this.#select(
        sql`${sql.join(conds, sql` and `)} order by r.id desc limit ${limit}`,
      ).execute(db)
      return r.rows.map(toRun)
    })
  }

  async counts(options: { readonly limit?: number } = {}): Promise<RunCount[]> {
    const limit = validateInt('limit', options?.limit ?? 1000, 1, 10_000)
    const { f } = this.#x
    // One statement: count per (workflow id, status) first, then name the workflows. Both
    // families scan the runs once (Postgres can use pgqrs_runs_status); no row is returned per run.
    return this.#x.read('runs.counts', async (db) => {
      const r = await sql<Row>`select w.name as workflow, c.status, c.n
        from (select workflow_id, status, count(*) as n from ${f.t('pgqrs_runs')}
          group by workflow_id, status) c
        join ${f.t('pgqrs_workflows')} w on w.id = c.workflow_id
        order by w.name, c.status limit ${limit}`.execute(db)
      return r.rows.map((row) => ({
        workflow: String(row.workflow),
        status: String(row.status) as RunStatus,
        count: num(row.n),
      }))
    })
  }

  /** Validates a change: its JSON serialised, its wake time checked, the statuses it may leave. */
  #change(id: number, change: RunTransition): RunChange {
    validateInt('id', id, 1)
    if (typeof change !== 'object' || change === null)
      throw new ValidationError('change', change, 'an object { to, lease, … }')
    const to = change.to
    if (!RUN_STATUSES.includes(to)) throw new ValidationError('to', to, RUN_STATUSES.join(', '))
    checkLease(change.lease)
    const json = (v: unknown) => (v === undefined ? undefined : jsonText(v, this.#config))
    const wakeAt =
      change.wakeAt === undefined || change.wakeAt === null
        ? change.wakeAt
        : validateInstant('wakeAt', change.wakeAt)
    return {
      to,
      from: RUN_TRANSITIONS[to],
      output: json(change.output),
      error: json(change.error),
      wakeAt,
      lease: change.lease,
    }
  }

  /** Applies a validated change; a refusal is explained (NotFound, LeaseLost, or the transition). */
  async #apply(id: number, c: RunChange, archive: boolean): Promise<RunRecord> {
    const run = await this.#x.f.runs.transition(this.#x, id, c, archive)
    if (run) return run
    return this.#x.read('runs.transition', async (db) => {
      await explainFence(db, this.#x.f, id, c.lease) // NotFoundError or LeaseLostError when that is why
      const cur = await sql<Row>`select status from ${this.#x.f.t('pgqrs_runs')}
        where id = ${id}`.execute(db)
      throw new InvalidStateTransitionError('run', String(cur.rows[0]?.status), c.to, c.from)
    })
  }

  async transition(id: number, change: RunTransition): Promise<RunRecord> {
    return this.#apply(id, this.#change(id, change), false)
  }

  async end(id: number, ending: RunEnding): Promise<RunRecord> {
    if (!TERMINAL_RUN_STATUSES.includes(ending?.to))
      throw new ValidationError('to', ending?.to, TERMINAL_RUN_STATUSES.join(', '))
    if (typeof ending.lease !== 'string' || ending.lease.length === 0)
      throw new ValidationError('lease', ending.lease, "the lease token of the run's message")
    return this.#apply(id, this.#change(id, ending), true)
  }
}

/** Validates `StartRunOptions.parent`: a run id and a step key, or nothing. */
function checkParent(parent: StartRunOptions['parent']): { runId: number; stepKey: string } | null {
  if (parent === undefined || parent === null) return null
  if (typeof parent !== 'object')
    throw new ValidationError('parent', parent, 'an object { runId, stepKey } or null')
  return {
    runId: validateInt('parent.runId', parent.runId, 1),
    stepKey: validateName('step', parent.stepKey),
  }
}
