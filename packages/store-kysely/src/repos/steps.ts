import {
  type AcquiredStep,
  type ResolvedConfig,
  type StepRecord,
  type StepRepository,
  validateDate,
  validateInt,
  validateName,
} from '@pgqrs/core'
import { sql } from 'kysely'
import { stepColumns } from '../columns.js'
import type { Db } from '../dialect.js'
import type { Exec } from '../exec.js'
import { type Row, toStep } from '../row-mappers.js'
import { fenceRun } from './fence.js'
import { jsonText } from './json-value.js'

/** Memoised steps; every write is fenced by the run message's lease. @internal */
export class KyselyStepRepository implements StepRepository {
  readonly #x: Exec
  readonly #config: ResolvedConfig
  constructor(exec: Exec, config: ResolvedConfig) {
    this.#x = exec
    this.#config = config
  }

  async #get(db: Db, runId: number, stepKey: string): Promise<StepRecord | null> {
    const { d } = this.#x
    const lock = d.family === 'postgres' ? sql`for update` : sql``
    const r = await sql<Row>`select ${stepColumns(d.family, 's')} from ${d.t('pgqrs_steps')} s
      where s.run_id = ${runId} and s.step_key = ${stepKey} ${lock}`.execute(db)
    return r.rows[0] ? toStep(r.rows[0]) : null
  }

  #check(runId: number, stepKey: string) {
    validateInt('runId', runId, 1)
    validateName('step', stepKey)
  }

  async acquire(runId: number, stepKey: string, lease: string | null): Promise<AcquiredStep> {
    this.#check(runId, stepKey)
    const { d } = this.#x
    return this.#x.write('steps.acquire', async (db) => {
      await fenceRun(db, d, runId, lease)
      const existing = await this.#get(db, runId, stepKey)
      if (existing && existing.status !== 'RUNNING') return { step: existing, created: false }
      if (existing) {
        await sql`update ${d.t('pgqrs_steps')} set started_at = ${d.now()} where id = ${existing.id}`.execute(
          db,
        )
      } else {
        await sql`insert into ${d.t('pgqrs_steps')} (run_id, step_key, status, created_at, started_at)
          values (${runId}, ${stepKey}, 'RUNNING', ${d.now()}, ${d.now()})`.execute(db)
      }
      return { step: (await this.#get(db, runId, stepKey))!, created: existing === null }
    })
  }

  async #update(
    op: string,
    runId: number,
    stepKey: string,
    lease: string | null,
    set: ReturnType<typeof sql>,
    where: ReturnType<typeof sql>,
  ): Promise<boolean> {
    this.#check(runId, stepKey)
    const { d } = this.#x
    return this.#x.write(op, async (db) => {
      await fenceRun(db, d, runId, lease)
      const r = await sql`update ${d.t('pgqrs_steps')} set ${set}
        where run_id = ${runId} and step_key = ${stepKey} and ${where}`.execute(db)
      return Number(r.numAffectedRows ?? 0n) > 0
    })
  }

  complete(
    runId: number,
    stepKey: string,
    output: unknown,
    lease: string | null,
  ): Promise<boolean> {
    const { d } = this.#x
    const text = jsonText(output, this.#config)
    return this.#update(
      'steps.complete',
      runId,
      stepKey,
      lease,
      sql`status = 'SUCCESS', output = ${d.json(text)}, error = null, retry_at = null, completed_at = ${d.now()}`,
      sql`status = 'RUNNING'`,
    )
  }

  fail(
    runId: number,
    stepKey: string,
    error: unknown,
    retryAt: Date | null,
    lease: string | null,
  ): Promise<boolean> {
    const { d } = this.#x
    const text = jsonText(error, this.#config)
    const at = retryAt === null ? null : validateDate('retryAt', retryAt)
    return this.#update(
      'steps.fail',
      runId,
      stepKey,
      lease,
      sql`status = 'ERROR', error = ${d.json(text)}, retry_at = ${d.time(at)}, retry_count = retry_count + 1, completed_at = ${d.now()}`,
      sql`status = 'RUNNING'`,
    )
  }

  retry(
    runId: number,
    stepKey: string,
    lease: string | null,
    options: { early?: boolean } = {},
  ): Promise<boolean> {
    const { d } = this.#x
    return this.#update(
      'steps.retry',
      runId,
      stepKey,
      lease,
      sql`status = 'RUNNING', error = null, retry_at = null, started_at = ${d.now()}, completed_at = null`,
      options.early
        ? sql`status = 'ERROR' and retry_at is not null`
        : sql`status = 'ERROR' and retry_at is not null and retry_at <= ${d.now()}`,
    )
  }

  async get(runId: number, stepKey: string): Promise<StepRecord | null> {
    this.#check(runId, stepKey)
    return this.#x.read('steps.get', (db) => this.#getPlain(db, runId, stepKey))
  }

  async #getPlain(db: Db, runId: number, stepKey: string): Promise<StepRecord | null> {
    const { d } = this.#x
    const r = await sql<Row>`select ${stepColumns(d.family, 's')} from ${d.t('pgqrs_steps')} s
      where s.run_id = ${runId} and s.step_key = ${stepKey}`.execute(db)
    return r.rows[0] ? toStep(r.rows[0]) : null
  }

  async list(runId: number): Promise<StepRecord[]> {
    validateInt('runId', runId, 1)
    const { d } = this.#x
    return this.#x.read('steps.list', async (db) => {
      const r = await sql<Row>`select ${stepColumns(d.family, 's')} from ${d.t('pgqrs_steps')} s
        where s.run_id = ${runId} order by s.id`.execute(db)
      return r.rows.map(toStep)
    })
  }
}
