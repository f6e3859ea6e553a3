import {
  type AcquiredStep,
  type PageOptions,
  type ResolvedConfig,
  type RunStatus,
  StoreError,
  type StepRecord,
  type StepRepository,
  validateInt,
  validateName,
  validateInstant,
  validatePage,
} from '@pgqrs/core'
import { sql } from 'kysely'
import type { Exec } from '../exec.js'
import { checkLease } from '../fence.js'
import { type Row, toStep } from '../row-mappers.js'
import { jsonText } from './json-value.js'

/**
 * Memoised steps; every write is fenced by the run message's lease (the family's `StepSql` holds
 * the fenced statements), reads are SQL both families share. @internal
 */
export class KyselyStepRepository implements StepRepository {
  readonly #x: Exec
  readonly #config: ResolvedConfig
  constructor(exec: Exec, config: ResolvedConfig) {
    this.#x = exec
    this.#config = config
  }

  #check(runId: number, stepKey: string) {
    validateInt('runId', runId, 1)
    validateName('step', stepKey)
  }

  #checkWrite(runId: number, stepKey: string, lease: unknown) {
    this.#check(runId, stepKey)
    checkLease(lease)
  }

  async acquire(runId: number, stepKey: string, lease: string | null): Promise<AcquiredStep> {
    this.#checkWrite(runId, stepKey, lease)
    const got = await this.#x.f.steps.acquire(this.#x, runId, stepKey, lease)
    if (got.step === null && got.runStatus !== 'CANCELLING' && got.runStatus !== 'CANCELLED') {
      throw new StoreError(
        this.#x.backend,
        'steps.acquire',
        `step ${stepKey} of run ${runId} was neither created nor found (run status ${got.runStatus})`,
      )
    }
    return got
  }

  #update(
    op: string,
    runId: number,
    stepKey: string,
    lease: string | null,
    set: ReturnType<typeof sql>,
    where: ReturnType<typeof sql>,
  ): Promise<boolean> {
    return this.#x.f.steps.update(this.#x, op, runId, stepKey, lease, set, where)
  }

  async complete(
    runId: number,
    stepKey: string,
    output: unknown,
    lease: string | null,
  ): Promise<boolean> {
    this.#checkWrite(runId, stepKey, lease)
    const { f } = this.#x
    const text = jsonText(output, this.#config)
    return this.#update(
      'steps.complete',
      runId,
      stepKey,
      lease,
      sql`status = 'SUCCESS', output = ${f.json(text)}, error = null, retry_at = null, completed_at = ${f.now()}`,
      sql`status = 'RUNNING'`,
    )
  }

  async record(
    runId: number,
    stepKey: string,
    output: unknown,
    lease: string | null,
    elapsedMs = 0,
  ): Promise<{ written: boolean; runStatus: RunStatus }> {
    this.#checkWrite(runId, stepKey, lease)
    validateInt('elapsedMs', elapsedMs, 0, 2_147_483_647)
    const text = jsonText(output, this.#config)
    return this.#x.f.steps.record(this.#x, runId, stepKey, text, lease, elapsedMs)
  }

  async fail(
    runId: number,
    stepKey: string,
    error: unknown,
    retryAt: Date | null,
    lease: string | null,
  ): Promise<boolean> {
    this.#checkWrite(runId, stepKey, lease)
    const { f } = this.#x
    const text = jsonText(error, this.#config)
    const at = retryAt === null ? null : validateInstant('retryAt', retryAt)
    return this.#update(
      'steps.fail',
      runId,
      stepKey,
      lease,
      sql`status = 'ERROR', error = ${f.json(text)}, retry_at = ${f.time(at)}, retry_count = retry_count + 1, completed_at = ${f.now()}`,
      sql`status = 'RUNNING'`,
    )
  }

  async retry(
    runId: number,
    stepKey: string,
    lease: string | null,
    options: { early?: boolean } = {},
  ): Promise<boolean> {
    this.#checkWrite(runId, stepKey, lease)
    const { f } = this.#x
    return this.#update(
      'steps.retry',
      runId,
      stepKey,
      lease,
      sql`status = 'RUNNING', error = null, retry_at = null, started_at = ${f.now()}, completed_at = null`,
      options.early
        ? sql`status = 'ERROR' and retry_at is not null`
        : sql`status = 'ERROR' and retry_at is not null and retry_at <= ${f.now()}`,
    )
  }

  async get(runId: number, stepKey: string): Promise<StepRecord | null> {
    this.#check(runId, stepKey)
    const { f } = this.#x
    return this.#x.read('steps.get', async (db) => {
      const r = await sql<Row>`select ${f.columns.step('s')} from ${f.t('pgqrs_steps')} s
        where s.run_id = ${runId} and s.step_key = ${stepKey}`.execute(db)
      return r.rows[0] ? toStep(r.rows[0]) : null
    })
  }

  async list(runId: number, options?: PageOptions<number>): Promise<StepRecord[]> {
    validateInt('runId', runId, 1)
    const { limit, after } = validatePage(options, 'id')
    const { f } = this.#x
    return this.#x.read('steps.list', async (db) => {
      const r = await sql<Row>`select ${f.columns.step('s')} from ${f.t('pgqrs_steps')} s
        where s.run_id = ${runId}${after === undefined ? sql`` : sql` and s.id > ${after}`}
        order by s.id limit ${limit}`.execute(db)
      return r.rows.map(toStep)
    })
  }
}
