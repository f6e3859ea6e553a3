// Event round trip (issue 15): sendEvent → the waiting run continues (its next step starts), at
// idle, p50/p99 over N runs, on Postgres (a send NOTIFYs the workflow's queue) and on SQLite
// (the worker finds the woken run at its next poll). Also counts the SQL statements sent while
// 1 000 runs wait (none per waiter), then sends 1 000 events. Diagnostic, not part of `pnpm bench`:
// `pnpm exec node bench/src/tools/event-round-trip.ts [N]`.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Store } from '@pgqrs/core'
import { PostgresStore } from '@pgqrs/store-postgres'
import { SqliteStore } from '@pgqrs/store-sqlite'
import pg from 'pg'
import { admin, defineWorkflow, sendEvent, workflowWorker } from 'pgqrs'

const url = process.env.PGQRS_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
const rounds = Number(process.argv[2] ?? 200)

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!
}

async function asleep(store: Store, runId: number): Promise<void> {
  for (;;) {
    const r = await store.runs.get(runId)
    const m = r && (await store.messages.get(r.messageId))
    if (r?.status === 'SLEEPING' && m?.lease === null) return
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

async function measure(label: string, store: Store, pollIntervalMs: number): Promise<void> {
  await admin(store).install()
  const continued = new Map<number, (t: number) => void>()
  const wf = defineWorkflow({
    name: `rt_${process.pid}`,
    async run(ctx) {
      await ctx.waitForEvent('go')
      await ctx.step('continued', () => continued.get(ctx.runId)?.(performance.now()))
    },
  })
  const runner = await workflowWorker(store, [wf], { pollIntervalMs }).start()
  const samples: number[] = []
  for (let i = 0; i < rounds; i++) {
    const h = await wf.start(store, {})
    await asleep(store, h.id)
    await new Promise((resolve) => setTimeout(resolve, 5)) // idle
    const done = new Promise<number>((resolve) => continued.set(h.id, resolve))
    const t0 = performance.now()
    await sendEvent(store, h.id, 'go', i)
    samples.push((await done) - t0)
    await h.result()
  }
  await runner.stop()
  samples.sort((a, b) => a - b)
  console.log(
    `${label}: event round trip over ${rounds} runs: p50 ${pct(samples, 50).toFixed(1)} ms, p99 ${pct(samples, 99).toFixed(1)} ms (pollIntervalMs ${pollIntervalMs})`,
  )
}

/** Statements this process sends while `n` runs wait (counted on the pool's clients). */
async function idleCost(store: PostgresStore, n: number): Promise<void> {
  const wf = defineWorkflow({
    name: `idle_${process.pid}`,
    async run(ctx) {
      return ctx.waitForEvent('go')
    },
  })
  const runner = await workflowWorker(store, [wf], {
    pollIntervalMs: 1_000,
    concurrency: 8,
  }).start()
  const handles = []
  for (let i = 0; i < n; i++) handles.push(await wf.start(store, {}))
  for (const h of handles) await asleep(store, h.id)
  const before = statements
  await new Promise((resolve) => setTimeout(resolve, 5_000))
  console.log(
    `postgres: ${n} runs waiting for 5 s: ${statements - before} statements from this process (the worker's idle polls and heartbeats; none per waiting run)`,
  )
  const t0 = performance.now()
  await Promise.all(handles.map((h, i) => sendEvent(store, h.id, 'go', i)))
  await Promise.all(handles.map((h) => h.result({ timeoutMs: 60_000 })))
  console.log(
    `postgres: ${n} events sent, all ${n} runs finished in ${(performance.now() - t0).toFixed(0)} ms`,
  )
  await runner.stop()
}

const schema = `pgqrs_bench_${process.pid}_ev`
let statements = 0
const pool = new pg.Pool({ connectionString: url, max: 10 })
pool.on('connect', (client) => {
  const query = client.query.bind(client) as (...a: unknown[]) => unknown
  ;(client as unknown as { query: unknown }).query = (...args: unknown[]) => {
    statements++
    return query(...args)
  }
})
const pgStore = new PostgresStore({ pool, schema })
try {
  await measure('postgres', pgStore, 1_000)
  await idleCost(pgStore, 1_000)
} finally {
  await pgStore.close()
  await pool.query(`drop schema if exists "${schema}" cascade`)
  await pool.end()
}

const dir = mkdtempSync(join(tmpdir(), 'pgqrs-bench-ev-'))
const sqlite = new SqliteStore({ path: join(dir, 'ev.db') })
try {
  await measure('sqlite', sqlite, 50)
} finally {
  await sqlite.close()
  rmSync(dir, { recursive: true, force: true })
}
