import type { RunStatus } from '@pgqrs/core'
import { type RawBuilder, sql } from 'kysely'
import { explainFence } from '../fence.js'
import type { FamilyFragments, StepSql } from '../family.js'
import { type Row, toStep } from '../row-mappers.js'

/**
 * The fence as SQL, in the WHERE of the very statement that writes: "the run's message is still
 * leased with `lease`", locking that message row FOR SHARE until commit so the lease cannot be
 * taken over between the check and the write. Null (an operator's write) is always true.
 */
function fence(f: FamilyFragments, runId: number, lease: string | null): RawBuilder<unknown> {
  if (lease === null) return sql`true`
  if (!f.isLeaseToken(lease)) return sql`false`
  return sql`exists (select 1 from ${f.t('pgqrs_messages')} fm
    where fm.id = (select fr.message_id from ${f.t('pgqrs_runs')} fr where fr.id = ${runId})
      and fm.lease = ${lease}::uuid for share)`
}

/**
 * The Postgres {@link StepSql}: each write is ONE statement with the fence in its WHERE (a 3-step
 * run went from 56 statements and 10 commits to about half); a refusal is explained afterwards.
 * @internal
 */
export function postgresSteps(f: FamilyFragments): StepSql {
  const runStatus = (db: Parameters<typeof explainFence>[0], runId: number) =>
    sql<Row>`select status from ${f.t('pgqrs_runs')} where id = ${runId}`
      .execute(db)
      .then((r) => String(r.rows[0]?.status) as RunStatus)
  return {
    acquire: (x, runId, stepKey, lease) =>
      x.write1('steps.acquire', async (db) => {
        // Upsert as RUNNING, keeping a SUCCESS or ERROR step as it is; fenced; the run's status too.
        const r = await sql<Row>`insert into ${f.t('pgqrs_steps')} as s
            (run_id, step_key, status, created_at, started_at)
          select ${runId}, ${stepKey}, 'RUNNING', now(), now()
          where ${fence(f, runId, lease)}
            and (select status from ${f.t('pgqrs_runs')} where id = ${runId})
              not in ('CANCELLING', 'CANCELLED')
          on conflict (run_id, step_key) do update
            set started_at = case when s.status = 'RUNNING' then excluded.started_at else s.started_at end
          returning ${f.columns.step('s')}, (s.xmax = 0) as created,
            (select status from ${f.t('pgqrs_runs')} where id = ${runId}) as run_status`.execute(db)
        const row = r.rows[0]
        if (row) {
          return {
            step: toStep(row),
            created: Boolean(row.created),
            runStatus: String(row.run_status) as RunStatus,
          }
        }
        // Nothing written: the fence refused (explainFence throws), or the run is being cancelled.
        await explainFence(db, f, runId, lease)
        return { step: null, created: false, runStatus: await runStatus(db, runId) }
      }),

    update: (x, op, runId, stepKey, lease, set, where) =>
      x.write1(op, async (db) => {
        const r = await sql`update ${f.t('pgqrs_steps')} set ${set}
          where run_id = ${runId} and step_key = ${stepKey} and ${where}
            and ${fence(f, runId, lease)}`.execute(db)
        if (Number(r.numAffectedRows ?? 0n) > 0) return true
        await explainFence(db, f, runId, lease) // throws when the fence is why
        return false
      }),

    record: (x, runId, stepKey, output, lease, elapsedMs) =>
      x.write1('steps.record', async (db) => {
        // `pgqrs_step_record`: the fenced insert, planned once per session
        if (lease === null || f.isLeaseToken(lease)) {
          const r = await sql<Row>`select ${f.t('pgqrs_step_record')}(${runId}::bigint,
            ${stepKey}, ${output}::jsonb, ${lease !== null}, ${lease}::uuid,
            ${f.nowPlus(-elapsedMs)}) as run_status`.execute(db)
          const status = r.rows[0]?.run_status
          if (status !== null && status !== undefined)
            return { written: true, runStatus: String(status) as RunStatus }
        }
        await explainFence(db, f, runId, lease) // throws when the fence is why
        return { written: false, runStatus: await runStatus(db, runId) }
      }),
  }
}
