// `pnpm bench`: measures pgqrs, pg-boss and graphile-worker on the same Postgres, machine and
// payloads, and writes docs/benchmarks.md with docs/benchmarks.svg. See `pnpm bench --help`.
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { machineInfo } from './machine.ts'
import { parseOptions, USAGE } from './options.ts'
import { writeReport } from './report.ts'
import { runBench } from './runner.ts'
import { Targets } from './targets.ts'

const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const ROOT = resolve(BENCH, '..')

async function main(): Promise<void> {
  if (process.argv.includes('--dashboard')) {
    // the dashboard page timings are their own run (a big fill, no queue systems)
    const { runDashboardBench } = await import('./tools/dashboard-pages.ts')
    return runDashboardBench(process.argv.slice(2))
  }
  if (process.argv.includes('--metrics')) {
    // what one queue-metrics call costs on a 1 000 000-row archive, before and after issue 13
    const { runMetricsBench } = await import('./tools/metrics-cost.ts')
    return runMetricsBench(process.argv.slice(2))
  }
  let options: ReturnType<typeof parseOptions>
  try {
    options = parseOptions(process.argv.slice(2), ROOT)
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }
  const targets = await Targets.open(options.url).catch((e: Error) => {
    console.error(`Cannot connect to ${options.url}: ${e.message}`)
    console.error('Set PGQRS_BENCH_DATABASE_URL to a PostgreSQL you can create schemas in.')
    process.exit(1)
  })
  const stop = () => {
    console.error("interrupted: removing this run's schemas and files")
    void targets.close().finally(() => process.exit(130))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    const machine = await machineInfo(targets.client, ROOT)
    console.log(
      `pnpm bench: ${machine.cpu} × ${machine.cores}, Node ${machine.node}, PostgreSQL ${machine.postgres.server_version} ` +
        `(fsync ${machine.postgres.fsync}, synchronous_commit ${machine.postgres.synchronous_commit}); ` +
        `workloads ${[...options.only, ...(options.rss ? ['rss'] : [])].join(',')}, ${options.reps} rep(s)${options.quick ? ', quick' : ''}`,
    )
    const started = new Date()
    const t0 = performance.now()
    const results = await runBench(options, targets)
    const seconds = (performance.now() - t0) / 1000
    const raw = join(BENCH, '.results', options.quick ? 'last-quick.json' : 'last.json')
    mkdirSync(dirname(raw), { recursive: true })
    writeFileSync(raw, JSON.stringify({ options, machine, started, seconds, results }, null, 1))
    const out = await writeReport({
      options,
      machine,
      loadAtEnd: os.loadavg(),
      started,
      seconds,
      results,
    })
    console.log(
      `wrote ${out} (and the SVG beside it) in ${Math.round(seconds)} s; raw results in ${raw}`,
    )
  } finally {
    await targets.close()
  }
}

await main()
