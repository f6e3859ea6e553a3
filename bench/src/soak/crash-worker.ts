// A workflow worker process of `pnpm soak:crash`: runs the soak workflow until SIGKILLed (or told
// to stop). It tells the parent where it is (entering a run, inside a step, between steps, inside
// the transactional step, settling), so the parent can say where each kill landed.
import { PostgresStore } from '@pgqrs/store-postgres'
import { type Kysely, sql } from 'kysely'
import pg from 'pg'
import { defineWorkflow, workflowWorker } from 'pgqrs'

export type Phase = 'idle' | 'step' | 'between' | 'tx-step' | 'settle'
export type CrashMsg =
  | { readonly type: 'started' }
  | { readonly type: 'phase'; readonly phase: Phase; readonly runId: number }
  | { readonly type: 'enter'; readonly runId: number }

const { url, schema, workflow } = JSON.parse(process.env.PGQRS_SOAK ?? '{}') as {
  url: string
  schema: string
  workflow: string
}
const send = (m: CrashMsg) => process.send?.(m)
const side = new pg.Pool({ connectionString: url, max: 4 })
const pause = () => new Promise((r) => setTimeout(r, Math.random() * 20))

/** A step with a side effect outside the database transaction: recorded on its own connection. */
async function effect(runId: number, step: string): Promise<void> {
  send({ type: 'phase', phase: 'step', runId })
  await side.query(`insert into "${schema}".soak_exec (run_id, step, pid) values ($1, $2, $3)`, [
    runId,
    step,
    process.pid,
  ])
  await pause()
}

const def = defineWorkflow({
  name: workflow,
  async run(ctx, input: { n: number }) {
    send({ type: 'enter', runId: ctx.runId })
    await ctx.step('a', () => effect(ctx.runId, 'a'))
    send({ type: 'phase', phase: 'between', runId: ctx.runId })
    await pause()
    await ctx.step(
      'b',
      async (tx: Kysely<unknown>) => {
        send({ type: 'phase', phase: 'tx-step', runId: ctx.runId })
        await sql`insert into ${sql.table(`${schema}.soak_tx`)} (run_id, pid) values (${ctx.runId}, ${process.pid})`.execute(
          tx,
        )
        await pause()
        return input.n
      },
      { transactional: true },
    )
    send({ type: 'phase', phase: 'between', runId: ctx.runId })
    const out = await ctx.step('c', () => effect(ctx.runId, 'c'))
    send({ type: 'phase', phase: 'settle', runId: ctx.runId })
    return out ?? null
  },
})

const store = new PostgresStore({ connectionString: url, schema })
const runner = workflowWorker(store, [def], {
  concurrency: 4,
  leaseMs: 1_000,
  pollIntervalMs: 50,
  heartbeatIntervalMs: 250,
})
await runner.start()
send({ type: 'started' })
process.on('message', async (m) => {
  if (m !== 'stop') return
  await runner.stop({ graceMs: 5_000 })
  await store.close()
  await side.end()
  process.exit(0)
})
