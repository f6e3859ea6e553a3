// `pnpm soak:xmin` (outside CI): a steady producer at half the measured capacity and 4 workers run
// for --duration seconds twice, each time in a fresh schema: once plain, once while another
// session holds a REPEATABLE READ transaction open (pinning the xmin horizon, so VACUUM can remove
// no dead tuple). Every --sample seconds it records throughput, claim latency p50/p99 (enqueue →
// handler start) and the dead tuples of pgqrs_messages; after the pinned run it ends the
// transaction and times how long the backlog takes to drain. Writes docs/xmin-soak.md.
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { PostgresStore } from '@pgqrs/store-postgres'
import pg from 'pg'
import { type Worker, worker } from 'pgqrs'
import { sleep } from '../util.ts'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '180' },
    sample: { type: 'string', default: '10' },
    rate: { type: 'string' },
    workers: { type: 'string', default: '4' },
    out: { type: 'string', default: resolve(import.meta.dirname, '../../../docs/xmin-soak.md') },
  },
})
const DB_URL = process.env.PGQRS_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
const DURATION_S = Number(values.duration)
const SAMPLE_S = Number(values.sample)
const WORKERS = Number(values.workers)
const QUEUE = 'soak'
const WORKER_OPTIONS = { concurrency: 10, batchSize: 10, pollIntervalMs: 200 } as const

interface Sample {
  readonly atS: number
  readonly handledPerS: number
  readonly p50: number
  readonly p99: number
  readonly deadTuples: number
  readonly backlog: number
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

async function fresh(tag: string): Promise<{ store: PostgresStore; schema: string }> {
  const schema = `pgqrs_soak_xmin_${process.pid}_${tag}`
  const store = new PostgresStore({ connectionString: DB_URL, schema })
  await store.migrate()
  await store.queues.ensure(QUEUE)
  return { store, schema }
}

async function startWorkers(store: PostgresStore, onStart: (t: number) => void) {
  const ws: Worker<{ t: number }>[] = []
  for (let i = 0; i < WORKERS; i++) {
    const w = worker<{ t: number }>(store, QUEUE, (m) => onStart(m.payload.t), WORKER_OPTIONS)
    w.on('error', (e) => console.error(`worker error: ${e.message}`))
    ws.push(w)
  }
  await Promise.all(ws.map((w) => w.start()))
  return ws
}

/** Drains a 20 000-message backlog with the soak's workers: the capacity (msg/s). */
async function capacity(): Promise<number> {
  const { store, schema } = await fresh('capacity')
  try {
    const producer = await store.producer<{ t: number }>(QUEUE)
    const n = 20_000
    for (let i = 0; i < n; i += 1000)
      await producer.enqueueMany(Array.from({ length: 1000 }, () => ({ t: 0 })))
    let handled = 0
    const t0 = performance.now()
    const ws = await startWorkers(store, () => handled++)
    while (handled < n) await sleep(5)
    const rate = n / ((performance.now() - t0) / 1000)
    await Promise.all(ws.map((w) => w.stop()))
    return rate
  } finally {
    await store.close()
    await drop(schema)
  }
}

async function drop(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: DB_URL })
  await c.connect()
  await c.query(`drop schema if exists "${schema}" cascade`)
  await c.end()
}

async function deadTuples(admin: pg.Client, schema: string): Promise<number> {
  const r = await admin.query<{ n: string }>(
    `select coalesce(sum(n_dead_tup), 0) as n from pg_stat_user_tables
      where schemaname = $1 and relname = 'pgqrs_messages'`,
    [schema],
  )
  return Number(r.rows[0]?.n ?? 0)
}

/** One soak run; with `pin`, another session holds a snapshot open for the whole duration. */
async function run(rate: number, pin: boolean) {
  const { store, schema } = await fresh(pin ? 'pinned' : 'plain')
  const admin = new pg.Client({ connectionString: DB_URL })
  await admin.connect()
  const pinner = pin ? new pg.Client({ connectionString: DB_URL }) : null
  if (pinner) {
    await pinner.connect()
    await pinner.query('begin isolation level repeatable read')
    await pinner.query('select txid_current(), count(*) from pg_class')
  }
  const producer = await store.producer<{ t: number }>(QUEUE)
  let window: number[] = []
  const ws = await startWorkers(store, (t) => window.push(Date.now() - t))
  const perTick = Math.max(1, Math.round(rate / 10))
  let producing = true
  const produce = (async () => {
    for (let next = performance.now(); producing; next += 100) {
      const now = Date.now()
      await producer.enqueueMany(Array.from({ length: perTick }, () => ({ t: now })))
      await sleep(Math.max(0, next + 100 - performance.now()))
    }
  })()
  const backlog = async () => {
    const m = await store.queues.metrics(QUEUE)
    return m ? m.pending + m.leased : 0
  }
  const samples: Sample[] = []
  const t0 = performance.now()
  for (let s = SAMPLE_S; s <= DURATION_S; s += SAMPLE_S) {
    await sleep(Math.max(0, t0 + s * 1000 - performance.now()))
    const w = window
    window = []
    samples.push({
      atS: s,
      handledPerS: w.length / SAMPLE_S,
      p50: pct(w, 50),
      p99: pct(w, 99),
      deadTuples: await deadTuples(admin, schema),
      backlog: await backlog(),
    })
    const x = samples.at(-1)!
    console.log(
      `${pin ? 'pinned' : 'plain '} ${s}s: ${x.handledPerS.toFixed(0)} msg/s, p50 ${x.p50} ms, p99 ${x.p99} ms, dead ${x.deadTuples}, backlog ${x.backlog}`,
    )
  }
  // The pinned transaction ends; the producer goes on: how long until the backlog is back down?
  let drainS: number | null = null
  const backlogAtEnd = await backlog()
  if (pinner) {
    await pinner.query('commit')
    const end = performance.now()
    const normal = Math.max(2 * perTick * 10, 200) // two seconds' worth of messages
    while (performance.now() - end < 60_000) {
      if ((await backlog()) <= normal) {
        drainS = (performance.now() - end) / 1000
        break
      }
      await sleep(100)
    }
    await pinner.end()
  }
  producing = false
  await produce
  await Promise.all(ws.map((w) => w.stop()))
  await store.close()
  await admin.end()
  await drop(schema)
  return { samples, drainS, backlogAtEnd }
}

const cap = values.rate ? Number(values.rate) * 2 : await capacity()
const rate = Math.round(cap / 2)
console.log(`capacity ${cap.toFixed(0)} msg/s; producing ${rate} msg/s for ${DURATION_S} s per run`)
const plain = await run(rate, false)
const pinned = await run(rate, true)

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
const thr = (r: typeof plain) => mean(r.samples.map((s) => s.handledPerS))
const loss = 1 - thr(pinned) / thr(plain)
const row = (s: Sample) =>
  `| ${s.atS} | ${s.handledPerS.toFixed(0)} | ${s.p50} | ${s.p99} | ${s.deadTuples} | ${s.backlog} |`
const head =
  '| s | handled msg/s | claim p50 ms | claim p99 ms | dead tuples | backlog |\n|---|---|---|---|---|---|'
const md = `# Pinned-xmin soak

Generated by \`pnpm soak:xmin${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\` on ${new Date().toISOString()} (not part of CI).
${WORKERS} workers (\`${JSON.stringify(WORKER_OPTIONS)}\`, archive on) and a producer enqueueing
${rate} msg/s (half the ${cap.toFixed(0)} msg/s these workers drained from a 20 000 backlog in the
same run) for ${DURATION_S} s, each run in a fresh schema; claim latency is enqueue → handler start.
In the pinned run another session holds \`BEGIN ISOLATION LEVEL REPEATABLE READ\` with a snapshot
taken for the whole duration, so no dead tuple of \`pgqrs_messages\` can be vacuumed; then it
commits, and the drain time is how long the backlog took to fall back to two seconds' worth of
messages. The machine is shared (2 cores): compare the two runs, not the absolute figures.

| | handled msg/s (mean) | claim p50 ms (median of samples) | claim p99 ms (worst sample) | dead tuples at end | backlog at end |
|---|---|---|---|---|---|
| plain | ${thr(plain).toFixed(0)} | ${pct(
  plain.samples.map((s) => s.p50),
  50,
)} | ${Math.max(...plain.samples.map((s) => s.p99))} | ${plain.samples.at(-1)?.deadTuples} | ${plain.backlogAtEnd} |
| pinned xmin | ${thr(pinned).toFixed(0)} | ${pct(
  pinned.samples.map((s) => s.p50),
  50,
)} | ${Math.max(...pinned.samples.map((s) => s.p99))} | ${pinned.samples.at(-1)?.deadTuples} | ${pinned.backlogAtEnd} |

Throughput loss under the pinned xmin: **${(loss * 100).toFixed(1)} %** (target ≤ 20 %).
Backlog drained ${pinned.drainS === null ? '**not within 60 s**' : `**${pinned.drainS.toFixed(1)} s**`} after the transaction ended (target ≤ 30 s).

## Every ${SAMPLE_S} s, plain

${head}
${plain.samples.map(row).join('\n')}

## Every ${SAMPLE_S} s, xmin pinned

${head}
${pinned.samples.map(row).join('\n')}
`
writeFileSync(values.out!, md)
console.log(`wrote ${values.out}: loss ${(loss * 100).toFixed(1)} %, drain ${pinned.drainS} s`)
