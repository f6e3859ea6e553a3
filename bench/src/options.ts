import { parseArgs } from 'node:util'
import type { WorkloadId } from './types.ts'

/** Everything a run is configured by; `--quick` changes the defaults, explicit flags win. */
export interface BenchOptions {
  readonly quick: boolean
  readonly only: readonly WorkloadId[]
  /** Only rows whose key contains one of these (all rows when empty). */
  readonly rows: readonly string[]
  readonly reps: number
  readonly url: string
  /** (a) backlog size. */
  readonly messages: number
  /** (a) consumer counts and batch sizes (rows = every pair). */
  readonly consumers: readonly number[]
  readonly batches: readonly number[]
  /** (a, e) a drain still running after this many seconds stops and reports the rate reached. */
  readonly drainCapS: number
  /** (b) duration. */
  readonly steadyS: number
  /** (c) samples per system. */
  readonly samples: number
  /** (d, e) workflow runs per measurement. */
  readonly runs: number
  /** (e) backlog size on SQLite and Turso. */
  readonly embeddedMessages: number
  /** (f) pgqrs `prefetch` in the batched rows. */
  readonly prefetch: number
  /** Flat-RSS check (opt-in) and its size. */
  readonly rss: boolean
  readonly rssMessages: number
  readonly rssEvery: number
  /** Run ANALYZE on the measurement's tables between filling and measuring (all systems alike). */
  readonly analyze: boolean
  /** Where the report goes (the SVG goes beside it). */
  readonly out: string
  /** The arguments as given, for the report. */
  readonly argv: readonly string[]
}

const ALL: readonly WorkloadId[] = ['a', 'b', 'c', 'd', 'e', 'f']
const QUICK: readonly WorkloadId[] = ['a', 'b', 'c', 'd', 'e', 'f']

export const USAGE = `pnpm bench [options]
  --quick              small sizes, 1 repetition, fewer rows (development; about 2-3 minutes)
  --only a,c           workloads to run: a drain, b steady, c latency, d workflow, e sqlite/turso,
                       f drain by worker processes timed from spawn (issue 17 shapes), rss
  --rows K1,K2         only the rows whose key contains one of these (e.g. workflow, c4-b50)
  --reps N             repetitions (default 3; medians are taken over them)
  --rss                also run the flat-RSS check (pgqrs worker over 1 000 000 messages; minutes)
  --messages N         (a) backlog size (default 50 000; quick 5 000)
  --consumers 1,4      (a) consumer counts (default 1,4; quick 4)
  --batches 1,10,50    (a) batch sizes (default 1,10,50; quick 1,50)
  --drain-cap S        (a, e) stop a drain after S seconds and report the rate reached (default 60; quick 10)
  --steady S           (b) duration in seconds (default 10; quick 3)
  --samples N          (c) latency samples per system (default 200; quick 40)
  --runs N             (d, e) workflow runs (default 2 000; quick 300)
  --embedded-messages N  (e) backlog on SQLite/Turso (default 20 000; quick 3 000)
  --prefetch N         (f) pgqrs worker prefetch in the batched rows (default 50)
  --rss-messages N     flat-RSS check size (default 1 000 000; quick 100 000)
  --analyze            ANALYZE each system's tables after filling, before measuring (default: no, as
                       after a sudden burst that autovacuum has not analyzed yet)
  --out FILE           report path (default docs/benchmarks.md; the SVG goes beside it)
  --dashboard          time every dashboard page instead, on 1 000 000 archived messages and
                       100 000 runs (--archived N, --runs N, --requests N; see docs/dashboard.md)
  --metrics            time one queues.allMetrics() on 1 000 000 archived messages instead,
                       against the statements it replaced (--archived N, --requests N)
environment: PGQRS_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres)`

function ints(name: string, raw: string | undefined, fallback: readonly number[]): number[] {
  if (raw === undefined) return [...fallback]
  return raw.split(',').map((p) => int(name, p.trim(), 1))
}

function int(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback
  const n = Number(raw.replaceAll('_', ''))
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name} needs a positive integer, got "${raw}"`)
  return n
}

export function parseOptions(argv: readonly string[], root: string): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      rows: { type: 'string' },
      reps: { type: 'string' },
      rss: { type: 'boolean', default: false },
      analyze: { type: 'boolean', default: false },
      messages: { type: 'string' },
      consumers: { type: 'string' },
      batches: { type: 'string' },
      'drain-cap': { type: 'string' },
      steady: { type: 'string' },
      samples: { type: 'string' },
      runs: { type: 'string' },
      'embedded-messages': { type: 'string' },
      'rss-messages': { type: 'string' },
      prefetch: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const quick = values.quick
  const only = values.only
    ? values.only.split(',').map((s) => s.trim().toLowerCase())
    : [...(quick ? QUICK : ALL)]
  for (const w of only) {
    if (w !== 'rss' && !ALL.includes(w as WorkloadId))
      throw new Error(`--only: unknown workload "${w}" (use a,b,c,d,e,f or rss)`)
  }
  const rssMessages = int('rss-messages', values['rss-messages'], quick ? 100_000 : 1_000_000)
  return {
    quick,
    only: only.filter((w) => w !== 'rss') as WorkloadId[],
    rows: values.rows ? values.rows.split(',').map((r) => r.trim()) : [],
    reps: int('reps', values.reps, quick ? 1 : 3),
    url: process.env.PGQRS_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    messages: int('messages', values.messages, quick ? 5_000 : 50_000),
    consumers: ints('consumers', values.consumers, quick ? [4] : [1, 4]),
    batches: ints('batches', values.batches, quick ? [1, 50] : [1, 10, 50]),
    drainCapS: int('drain-cap', values['drain-cap'], quick ? 10 : 60),
    steadyS: int('steady', values.steady, quick ? 3 : 10),
    samples: int('samples', values.samples, quick ? 40 : 200),
    runs: int('runs', values.runs, quick ? 300 : 2_000),
    embeddedMessages: int('embedded-messages', values['embedded-messages'], quick ? 3_000 : 20_000),
    prefetch: values.prefetch === '0' ? 0 : int('prefetch', values.prefetch, 50),
    rss: values.rss || only.includes('rss'),
    analyze: values.analyze,
    rssMessages,
    rssEvery: quick ? 10_000 : 50_000,
    out: values.out ?? `${root}/docs/benchmarks.md`,
    argv,
  }
}
