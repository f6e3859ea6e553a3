/**
 * How much chaos to run. `pnpm test:chaos` runs the full counts; setting `PGQRS_CHAOS_TRIALS`
 * (e.g. `8,4` = 8 Postgres + 4 SQLite kill trials) selects the reduced mode that `pnpm test` (CI)
 * uses: the other sections scale down with it.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package directory (packages/chaos). */
export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** The repository root. */
export const REPO_DIR = path.resolve(PACKAGE_DIR, '..', '..')
/** Where each section writes its figures (one JSON file per section). */
export const RESULTS_DIR = path.join(PACKAGE_DIR, '.results')

export interface ChaosSettings {
  /** `full` unless PGQRS_CHAOS_TRIALS is set. */
  readonly mode: 'full' | 'reduced'
  /** Kill trials on Postgres / SQLite. */
  readonly pgTrials: number
  readonly sqliteTrials: number
  /** Stall trials (one worker's store calls hang past its lease; stale hands must be fenced). */
  readonly pgStallTrials: number
  readonly sqliteStallTrials: number
  /** Pause trials (SIGSTOP past the lease, then SIGCONT). */
  readonly pgPauseTrials: number
  readonly sqlitePauseTrials: number
  /** Operations per process in the SQLite/Turso contention test. */
  readonly contentionOps: number
  /** fast-check runs per property (hostile input). */
  readonly numRuns: number
  /** Database restarts in the restart test. */
  readonly restarts: number
  /** Duration of the connection-fault phase, in ms. */
  readonly faultPhaseMs: number
  /** Seed of the trial schedule (PGQRS_CHAOS_SEED), so a failing schedule can be replayed. */
  readonly seed: number
  /** Write docs/reliability.md (PGQRS_CHAOS_DOCS=1, set by `pnpm test:chaos`). */
  readonly writeDocs: boolean
}

function parseTrials(raw: string): [number, number] {
  const parts = raw
    .split(/[,:/ ]+/)
    .filter(Boolean)
    .map(Number)
  if (parts.length < 1 || parts.length > 2 || parts.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new Error(
      `PGQRS_CHAOS_TRIALS=${JSON.stringify(raw)}: use "PG,SQLITE" kill-trial counts, e.g. "8,4"`,
    )
  }
  const pg = parts[0]!
  return [pg, parts[1] ?? Math.ceil(pg / 2)]
}

export function chaosSettings(
  env: Record<string, string | undefined> = process.env,
): ChaosSettings {
  const raw = env.PGQRS_CHAOS_TRIALS?.trim()
  const reduced = Boolean(raw)
  const [pgTrials, sqliteTrials] = raw ? parseTrials(raw) : [50, 20]
  const seedRaw = env.PGQRS_CHAOS_SEED?.trim()
  const seed = seedRaw ? Number(seedRaw) : Date.now() % 2_147_483_647
  if (!Number.isInteger(seed)) throw new Error(`PGQRS_CHAOS_SEED=${seedRaw}: use an integer`)
  return {
    mode: reduced ? 'reduced' : 'full',
    pgTrials,
    sqliteTrials,
    pgStallTrials: reduced ? Math.min(3, pgTrials) : 12,
    sqliteStallTrials: reduced ? Math.min(2, sqliteTrials) : 6,
    pgPauseTrials: reduced ? Math.min(1, pgTrials) : 5,
    sqlitePauseTrials: reduced ? Math.min(1, sqliteTrials) : 3,
    contentionOps: reduced ? 150 : 600,
    numRuns: reduced ? 40 : 200,
    restarts: reduced ? 2 : 4,
    faultPhaseMs: reduced ? 8_000 : 25_000,
    seed,
    writeDocs: env.PGQRS_CHAOS_DOCS === '1',
  }
}

/** A small seeded PRNG (mulberry32), so trial schedules can be replayed with PGQRS_CHAOS_SEED. */
export function rng(seed: number): {
  next(): number
  int(lo: number, hi: number): number
  pick<T>(items: readonly T[]): T
} {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  }
}
