// `pnpm bench --dashboard`: how fast every dashboard page answers on a big PostgreSQL database
// (default 1 000 000 archived messages and 100 000 workflow runs, written by dashboard-fill.ts in a
// fresh schema). Each page is requested over HTTP through the dashboard's Node handler, as a browser
// would, `--requests` times after two warm-ups; the report gives the median and the slowest. The
// target is < 300 ms per page. The overview is timed twice: its first view right after the
// dashboard is created (connections and code cold, the first sample of the queue counts still being
// read) and later views (which read the last sample).
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { createDashboard } from '@pgqrs/dashboard'
import { PostgresStore } from '@pgqrs/store-postgres'
import pg from 'pg'
import { fillDashboardData } from './dashboard-fill.ts'

const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const TARGET_MS = 300

interface Timing {
  readonly page: string
  readonly path: string
  readonly medianMs: number
  readonly maxMs: number
  readonly status: number
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)]!
}

async function timeOnce(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ ms: number; status: number }> {
  const t0 = performance.now()
  const r = await fetch(url, { headers })
  await r.arrayBuffer()
  return { ms: performance.now() - t0, status: r.status }
}

/** Fills, serves, times every page, prints a table and writes bench/.results/dashboard.json. */
export async function runDashboardBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--dashboard'),
    options: {
      archived: { type: 'string' },
      runs: { type: 'string' },
      requests: { type: 'string' },
    },
    strict: true,
  })
  const archived = Number((values.archived ?? '1000000').replaceAll('_', ''))
  const runs = Number((values.runs ?? '100000').replaceAll('_', ''))
  const requests = Number(values.requests ?? 15)
  const url = process.env.PGQRS_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
  const schema = `pgqrs_bench_${process.pid}_dashboard`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  const store = new PostgresStore({ connectionString: url, schema, logger: false })
  const server = createServer()
  try {
    await store.migrate()
    let t0 = performance.now()
    const ids = await fillDashboardData(admin, schema, { archived, runs })
    const fillS = (performance.now() - t0) / 1000
    console.log(
      `filled ${schema}: ${archived} archived messages, ${runs} runs (${fillS.toFixed(1)} s, analysed)`,
    )
    t0 = performance.now()
    const metrics = await store.queues.allMetrics()
    const metricsMs = performance.now() - t0
    // the overview's runs by status (and the observeRuns gauge): one group-by over the runs
    await store.runs.counts!() // warm
    t0 = performance.now()
    const runCounts = await store.runs.counts!()
    const runCountsMs = performance.now() - t0
    const dashboard = createDashboard({ store, pageSize: 50 })
    server.on('request', dashboard.node)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const first = await timeOnce(`${base}/`)
    const pages: [string, string][] = [
      ['overview (later views)', '/'],
      ['overview live refresh', '/?live'],
      ['queue: active', '/queues/emails'],
      ['queue: pending', '/queues/emails?state=pending'],
      ['queue: in flight', '/queues/emails?state=leased'],
      ['queue: delayed', '/queues/emails?state=delayed'],
      ['queue: dead', '/queues/emails?state=dead'],
      ['queue: archived', '/queues/emails?state=archived'],
      ['queue: archived (small queue)', '/queues/thumbnails?state=archived'],
      ['message (archived)', `/messages/${ids.archivedId}`],
      ['message (dead)', `/messages/${ids.deadId}`],
      ['runs', '/runs'],
      ['runs: ERROR', '/runs?status=ERROR'],
      ['runs: workflow + SLEEPING', '/runs?workflow=nightly-report&status=SLEEPING'],
      ['run', `/runs/${ids.runId}`],
      ['run (sleeping)', `/runs/${ids.sleepingRunId}`],
      ['workers', '/workers'],
    ]
    const timings: Timing[] = [
      {
        page: 'overview, first view right after start (cold pool and code; waits ≤ 100 ms for the first sample)',
        path: '/',
        medianMs: first.ms,
        maxMs: first.ms,
        status: first.status,
      },
    ]
    for (const [page, path] of pages) {
      const live = path === '/?live'
      const target = `${base}${live ? '/' : path}`
      const headers: Record<string, string> = live
        ? { 'HX-Request': 'true', 'HX-Target': 'live' }
        : {}
      for (let i = 0; i < 2; i++) await timeOnce(target, headers)
      const ms: number[] = []
      let status = 0
      for (let i = 0; i < requests; i++) {
        const r = await timeOnce(target, headers)
        ms.push(r.ms)
        status = r.status
      }
      timings.push({ page, path, medianMs: median(ms), maxMs: Math.max(...ms), status })
    }
    dashboard.close()
    const rows = timings.map(
      (t) =>
        `| ${t.page} | \`${t.path}\` | ${t.status} | ${t.medianMs.toFixed(1)} | ${t.maxMs.toFixed(1)} | ${t.medianMs < TARGET_MS && t.status === 200 ? 'yes' : '**no**'} |`,
    )
    console.log(
      `\nthe metrics query the sampler runs every 5 s (admin.allQueueMetrics, ${metrics.length} queues): ${metricsMs.toFixed(0)} ms\n`,
    )
    console.log(
      `runs by workflow and status (runs.counts, ${runCounts.length} lines over ${runs} runs): ${runCountsMs.toFixed(0)} ms\n`,
    )
    console.log('| page | path | status | median ms | max ms | < 300 ms |')
    console.log('| --- | --- | --- | --- | --- | --- |')
    for (const r of rows) console.log(r)
    const out = join(BENCH, '.results', 'dashboard.json')
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(
      out,
      JSON.stringify({ archived, runs, requests, fillS, metricsMs, runCountsMs, timings }, null, 1),
    )
    console.log(`\nraw results in ${out}`)
  } finally {
    server.close()
    await store.close()
    await admin.query(`drop schema if exists "${schema}" cascade`)
    await admin.end()
  }
}
