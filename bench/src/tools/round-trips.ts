// Counts the SQL statements (round trips) pgqrs sends per message on its hot paths, on Postgres:
// enqueueMany, dequeue + archiveMany, worker(), and a 3-step workflow run. Diagnostic only (not
// part of `pnpm bench`): `pnpm exec node bench/src/tools/round-trips.ts`.
import type { Store } from '@pgqrs/core'
import { PostgresStore } from '@pgqrs/store-postgres'
import pg from 'pg'
import { defineWorkflow, worker, workflowWorker } from 'pgqrs'
import { payload } from '../types.ts'
import { waitUntil } from '../util.ts'

const url = process.env.PGQRS_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
const schema = `pgqrs_bench_${process.pid}_rt`
const counts = new Map<string, number>()
let total = 0

/** A pool whose clients count every query by its first words. */
function countingPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown
    ;(client as unknown as { query: unknown }).query = (...args: unknown[]) => {
      const text =
        typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string })?.text)
      const key = text.replace(/\s+/g, ' ').trim().slice(0, 60)
      counts.set(key, (counts.get(key) ?? 0) + 1)
      total++
      return query(...args)
    }
  })
  return pool
}

function report(what: string, per: number): void {
  console.log(`\n${what}: ${(total / per).toFixed(2)} statements per message (${total} for ${per})`)
  for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1]))
    console.log(`  ${(n / per).toFixed(2)}  ${k}`)
  counts.clear()
  total = 0
}

async function main(): Promise<void> {
  const pool = countingPool()
  const store: Store = new PostgresStore({ pool, schema })
  try {
    await store.migrate()
    await store.queues.ensure('rt')
    const producer = await store.producer('rt')
    counts.clear()
    total = 0
    const N = 500
    for (let i = 0; i < N; i += 100)
      await producer.enqueueMany(Array.from({ length: 100 }, (_, k) => payload(i + k)))
    report('enqueueMany (batches of 100)', N)

    const consumer = await store.consumer('rt')
    counts.clear()
    total = 0
    for (let i = 0; i < 100; i++)
      await consumer.archiveMany(await consumer.dequeue({ batchSize: 1 }))
    report('dequeue(batch 1) + archiveMany', 100)
    for (let i = 0; i < 2; i++)
      await consumer.archiveMany(await consumer.dequeue({ batchSize: 50 }))
    report('dequeue(batch 50) + archiveMany', 100)

    let handled = 0
    const w = worker(store, 'rt', () => void handled++, { concurrency: 1, batchSize: 1 })
    await w.start()
    await waitUntil(() => handled >= 300, 'worker', 60_000)
    await w.stop()
    report('worker(concurrency 1) incl. start/stop', handled)

    await producer.enqueueMany(Array.from({ length: 5000 }, (_, k) => payload(k)))
    counts.clear()
    total = 0
    handled = 0
    const w50 = worker(store, 'rt', () => void handled++, { concurrency: 50, batchSize: 50 })
    await w50.start()
    await waitUntil(() => handled >= 5000, 'worker 50', 60_000)
    await w50.stop()
    report('worker(concurrency 50, batchSize 50) over a 5 000 backlog, incl. start/stop', handled)

    const def = defineWorkflow({
      name: 'rt_wf',
      async run(ctx, input: { i: number }) {
        const a = await ctx.step('one', () => input.i + 1)
        const b = await ctx.step('two', () => a * 2)
        return ctx.step('three', () => ({ a, b }))
      },
    })
    await def.ensure(store)
    for (let i = 0; i < 50; i++) await def.start(store, { i })
    report('workflow start', 50)
    let done = 0
    const ww = workflowWorker(store, [def], { concurrency: 1 })
    for (const q of ww.workers.values()) q.on('message:done', () => void done++)
    await ww.start()
    await waitUntil(() => done >= 50, 'workflow', 60_000)
    await ww.stop()
    report('workflow run (3 steps), incl. worker start/stop', 50)
  } finally {
    await store.close()
    await pool.query(`drop schema if exists "${schema}" cascade`)
    await pool.end()
  }
}

await main()
