import type { RunStatus } from '@pgqrs/core'
import { sql } from 'kysely'
import type { Db } from '../exec.js'
import { explainFence } from '../fence.js'
import type { FamilyFragments, StepSql } from '../family.js'
import { type Row, toStep } from '../row-mappers.js'

/**
 * The fence as a check inside the write transaction (the single writer makes check-then-write
 * atomic): the run's message id when `lease` is current (or null, an operator's write); throws
 * `NotFoundError` for an unknown run and `LeaseLostError` for a lease that is not current.
 * @internal
 */
export function fenceRun(
  db: Db,
  f: FamilyFragments,
  runId: number,
  lease: string | null,
): Promise<number> {
  return explainFence(db, f, runId, lease)
}

async function runStatus(db: Db, runId: number): Promise<RunStatus> {
  const r = await sql<Row>`select status from pgqrs_runs where id = ${runId}`.execute(db)
  return String(r.rows[0]?.status) as RunStatus
}

/** The sqlite-family {@link StepSql}: fence first, then the write, in one transaction. @internal */
export function sqliteSteps(f: FamilyFragments): StepSql {
  const get = async (db: Db, runId: number, stepKey: string) => {
    const r = await sql<Row>`select ${f.columns.step('s')} from pgqrs_steps s
      where s.run_id = ${runId} and s.step_key = ${stepKey}`.execute(db)
    return r.rows[0] ? toStep(r.rows[0]) : null
  }
  return {
    acquire: (x, runId, stepKey, lease) =>
      x.write('steps.acquire', async (db) => {
        await fenceRun(db, f, runId, lease)
        const status = await runStatus(db, runId)
        if (status === 'CANCELLING' || status === 'CANCELLED')
          return { step: null, created: false, runStatus: status }
        const existing = await get(db, runId, stepKey)
        if (existing && existing.status !== 'RUNNING')
          return { step: existing, created: false, runStatus: status }
        if (existing) {
          await sql`update pgqrs_steps set started_at = ${f.now()} where id = ${existing.id}`.execute(
            db,
          )
        } else {
          await sql`insert into pgqrs_steps (run_id, step_key, status, created_at, started_at)
            values (${runId}, ${stepKey}, 'RUNNING', ${f.now()}, ${f.now()})`.execute(db)
        }
        return {
          step: (await get(db, runId, stepKey))!,
          created: existing === null,
          runStatus: status,
        }
      }),

    update: (x, op, runId, stepKey, lease, set, where) =>
      x.write(op, async (db) => {
        await fenceRun(db, f, runId, lease)
        const r = await sql`update pgqrs_steps set ${set}
          where run_id = ${runId} and step_key = ${stepKey} and ${where}`.execute(db)
        return Number(r.numAffectedRows ?? 0n) > 0
      }),

    record: (x, runId, stepKey, output, lease, elapsedMs) =>
      x.write('steps.record', async (db) => {
        await fenceRun(db, f, runId, lease)
        const started = f.nowPlus(-elapsedMs)
        const r = await sql`insert into pgqrs_steps
            (run_id, step_key, status, output, created_at, started_at, completed_at)
          values (${runId}, ${stepKey}, 'SUCCESS', ${output}, ${started}, ${started}, ${f.now()})
          on conflict (run_id, step_key) do nothing`.execute(db)
        return {
          written: Number(r.numAffectedRows ?? 0n) > 0,
          runStatus: await runStatus(db, runId),
        }
      }),
  }
}
