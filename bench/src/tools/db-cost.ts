// Database CPU per message of each hot-path statement, measured one at a time on Postgres: a
// 50 000-message backlog is claimed in batches of 50 (nothing settled), then every batch is settled
// by archive, or by delete. CPU is that of all PostgreSQL processes of this machine (from /proc), so
// run it on a quiet machine. Diagnostic only (not part of `pnpm bench`):
// `pnpm exec node bench/src/tools/db-cost.ts` (PGQRS_BENCH_DATABASE_URL picks the server).
import { PostgresStore } from '@pgqrs/store-postgres'
import pg from 'pg'
import 'pgqrs'
import { payload } from '../types.ts'
import { postgresCpuMs } from '../util.ts'

const url = process.env.PGQRS_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
const N = 50_000
const BATCH = 50

async function measure(settle: 'archive' | 'delete'): Promise<void> {
  const schema = `pgqrs_bench_${process.pid}_cost_${settle}`
  const store = new PostgresStore({ connectionString: url, schema })
  try {
    await store.migrate()
    await store.queues.ensure('q')
    const producer = await store.producer('q')
    for (let i = 0; i < N; i += 2_000) {
      await producer.enqueueMany(Array.from({ length: 2_000 }, (_, k) => payload(i + k)))
    }
    const batches = []
    let cpu = postgresCpuMs()
    let t0 = performance.now()
    for (;;) {
      const b = await store.messages.dequeue('q', { batchSize: BATCH, leaseMs: 600_000 })
      if (b.length === 0) break
      batches.push(b)
    }
    const claimCpu = (postgresCpuMs() ?? 0) - (cpu ?? 0)
    const claimMs = performance.now() - t0
    cpu = postgresCpuMs()
    t0 = performance.now()
    for (const b of batches) await store.messages[settle](b)
    const settleCpu = (postgresCpuMs() ?? 0) - (cpu ?? 0)
    const settleMs = performance.now() - t0
    const per = (ms: number) => ((ms * 1000) / N).toFixed(1)
    console.log(
      `claim (batch ${BATCH}): ${per(claimCpu)} µs database CPU per message, ${per(claimMs)} µs wall`,
    )
    console.log(
      `${settle} (batch ${BATCH}): ${per(settleCpu)} µs database CPU per message, ${per(settleMs)} µs wall`,
    )
  } finally {
    await store.close()
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    await c.query(`drop schema if exists "${schema}" cascade`)
    await c.end()
  }
}

await measure('archive')
await measure('delete')
