// (d) A 3-step durable workflow, pgqrs only: N runs are started first (not timed), then 4
// in-process `workflowWorker` runners with concurrency 8 each execute them; the clock stops when
// every run has completed (SUCCESS committed and its message archived).
import type { Store } from '@pgqrs/core'
import type { WorkflowDefinition } from 'pgqrs'
import { openStore } from '../systems/pgqrs.ts'
import type { Measurement } from '../types.ts'
import { mapLimit, waitUntil } from '../util.ts'
import { type Context, num, type Row, type Workload } from './workload.ts'

export const STEPS = 3

async function definition(name: string): Promise<WorkflowDefinition<{ i: number }, unknown>> {
  const { defineWorkflow } = await import('pgqrs')
  return defineWorkflow({
    name,
    async run(ctx, input: { i: number }) {
      const a = await ctx.step('one', () => input.i + 1)
      const b = await ctx.step('two', () => a * 2)
      return ctx.step('three', () => ({ a, b }))
    },
  })
}

export async function prepareWorkflow(ctx: Context): Promise<void> {
  const store = await openStore(ctx.target)
  try {
    await store.migrate()
    const def = await definition(ctx.target.queue)
    await def.ensure(store)
    const runs = Array.from({ length: num(ctx.params, 'runs') }, (_, i) => i)
    await mapLimit(runs, ctx.target.backend === 'postgres' ? 8 : 1, async (i) => {
      await def.start(store, { i })
    })
  } finally {
    await store.close()
  }
}

export async function measureWorkflow(ctx: Context): Promise<Measurement> {
  const runs = num(ctx.params, 'runs')
  const runners = num(ctx.params, 'runners')
  const capMs = num(ctx.params, 'capS') * 1000
  const { workflowWorker } = await import('pgqrs')
  const def = await definition(ctx.target.queue)
  // Postgres: a store (pool) per runner, as separate services would have. The sqlite family is
  // single-process per file: the runners share one store.
  const stores: Store[] = []
  for (let r = 0; r < (ctx.target.backend === 'postgres' ? runners : 1); r++) {
    stores.push(await openStore(ctx.target))
  }
  try {
    for (const s of stores) await s.queues.get(ctx.target.queue)
    let done = 0
    const ww = Array.from({ length: runners }, (_, r) =>
      workflowWorker(stores[r % stores.length]!, [def], {
        concurrency: num(ctx.params, 'concurrency'),
      }),
    )
    for (const w of ww) {
      for (const q of w.workers.values()) {
        q.on('message:done', () => {
          done++
        })
        q.on('error', (e) => console.error(`workflow worker error: ${e.message}`))
      }
    }
    const t0 = performance.now()
    await Promise.all(ww.map((w) => w.start()))
    const elapsed = () => performance.now() - t0
    await waitUntil(() => done >= runs || elapsed() > capMs, 'runs', capMs + 60_000, 5)
    const seconds = elapsed() / 1000
    await Promise.all(ww.map((w) => w.stop()))
    const capped = done < runs
    return {
      value: done / seconds,
      extra: { steps: (done * STEPS) / seconds, seconds },
      ...(capped ? { note: `capped: ${done} of ${runs} runs in ${seconds.toFixed(1)} s` } : {}),
    }
  } finally {
    await Promise.all(stores.map((s) => s.close()))
  }
}

/** The workflow row for one backend. */
export function workflowRow(
  o: { runs: number; drainCapS: number },
  backend: Context['subject']['backend'],
  label: string,
): Row {
  return {
    key: `wf-${backend}`,
    cells: { backend, runners: '4 × concurrency 8' },
    params: { runs: o.runs, runners: 4, concurrency: 8, capS: o.drainCapS },
    subjects: [{ system: 'pgqrs', mode: 'worker', backend, label }],
    timeoutMs: (o.drainCapS + 180) * 1000,
  }
}

export const workflow: Workload = {
  id: 'd',
  title: '(d) 3-step workflow on Postgres (pgqrs only)',
  method: `N runs of a workflow with ${STEPS} steps (each returns a small value) are started first with \`def.start()\` (not timed). Then 4 \`workflowWorker\` runners, **in the same child process** (each with its own PostgresStore, so its own pool), with concurrency 8 each, execute them. The clock stops when every run has completed. steps/s = ${STEPS} × runs/s.`,
  columns: ['backend', 'runners'],
  metric: { name: 'runs/s', unit: 'runs/s', higherIsBetter: true },
  extras: [{ key: 'steps', header: 'steps/s' }],
  peers: false,
  rows: (o) => [workflowRow(o, 'postgres', 'pgqrs workflow')],
  prepare: prepareWorkflow,
  measure: measureWorkflow,
}
