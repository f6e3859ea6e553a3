/**
 * One trial: a fresh schema or file, a workload of queue messages and workflow runs, 3 worker
 * processes; one of them is hit at a random moment, preferably when it reports a chosen phase —
 * SIGKILLed and replaced (kill), its store calls stalled past its lease (stall), or SIGSTOPped
 * past its lease and resumed (pause) — then the invariants (invariants.ts).
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { type Figures, emptyFigures } from './invariants.ts'
import type { FromWorker, Phase } from './protocol.ts'
import { rng } from './settings.ts'
import { postgresTarget, sqliteTarget, type Target } from './target.ts'
import {
  checkWorkload,
  enqueueWorkload,
  trialDir,
  WorkerPool,
  type WorkloadSize,
  waitForCompletion,
} from './workload.ts'

export type FaultKind = 'kill' | 'pause' | 'stall'
export type KillPoint = Phase | 'any' | `${'handler' | 'step' | 'tx-step'}-slow`

export const KILL_POINTS: readonly KillPoint[] = [
  'any',
  'dequeue',
  'handler',
  'archive',
  'step',
  'step-complete',
  'tx-step',
  'transaction',
]
/**
 * Pause points. On SQLite a process paused inside a write transaction (tx-step) holds the single
 * write lock, so every other process stalls and every lease lapses: not the property under test.
 */
export const PAUSE_POINTS: Record<'postgres' | 'sqlite', readonly KillPoint[]> = {
  postgres: ['handler-slow', 'step-slow', 'tx-step-slow', 'handler', 'step'],
  sqlite: ['handler-slow', 'step-slow', 'handler', 'step'],
}

/**
 * Stall points: the victim's store calls hang from there for longer than its lease. Ordered by how
 * much they exercise fencing (a stale step completion or archive racing the new holder), since the
 * points are used in turn: the reduced mode's few stall trials cover the first ones.
 */
export const STALL_POINTS: readonly string[] = [
  'step-complete-slow',
  'archive-slow',
  'transaction',
  'step-complete',
  'archive',
  'dequeue',
]

/**
 * The fault point of trial `index`: the points are used in turn (so that even the reduced mode
 * covers each of them), starting at an offset drawn from the run's seed; stall trials always start
 * with the fencing-heavy points.
 */
export function faultPoint(
  fault: FaultKind,
  backend: 'postgres' | 'sqlite',
  index: number,
  runSeed: number,
): KillPoint {
  const points: readonly string[] =
    fault === 'kill' ? KILL_POINTS : fault === 'pause' ? PAUSE_POINTS[backend] : STALL_POINTS
  const offset = fault === 'stall' ? 0 : runSeed % points.length
  return points[(index + offset) % points.length] as KillPoint
}

export interface TrialSpec {
  readonly backend: 'postgres' | 'sqlite'
  readonly fault: FaultKind
  readonly index: number
  readonly seed: number
  /** The run's Postgres database (for postgres trials). */
  readonly pgUrl: string
  readonly tmpDir: string
  readonly leaseMs?: number
  readonly size?: WorkloadSize
  /** Where to inject the fault (see {@link faultPoint}); random when absent. */
  readonly point?: KillPoint
}

export interface TrialResult {
  readonly name: string
  readonly backend: 'postgres' | 'sqlite'
  readonly fault: FaultKind
  readonly seed: number
  readonly point: KillPoint
  /** Where the fault landed: the phase the victim reported, or `timer` when it never did. */
  readonly landed: string
  readonly delayMs: number
  readonly figures: Figures
  readonly violations: string[]
  readonly durationMs: number
}

const DEFAULT_SIZE: WorkloadSize = { messages: 48, runs: 12, slowEvery: 6 }

function matches(point: KillPoint, m: FromWorker): boolean {
  if (m.t !== 'phase') return false
  if (point === 'any') return true
  if (point.endsWith('-slow')) return m.phase === point.slice(0, -5) && m.slow === true
  return m.phase === point
}

export async function runTrial(spec: TrialSpec): Promise<TrialResult> {
  const started = Date.now()
  const r = rng(spec.seed)
  const leaseMs = spec.leaseMs ?? 1_000
  const size = spec.size ?? DEFAULT_SIZE
  const name = `${spec.backend}-${spec.fault}-${spec.index}`
  const dir = trialDir(spec.tmpDir, name)
  const target: Target =
    spec.backend === 'postgres'
      ? await postgresTarget(
          spec.pgUrl,
          `chaos_${spec.fault}_${spec.index}_${randomBytes(3).toString('hex')}`,
        )
      : await sqliteTarget('sqlite', path.join(dir, 'trial.db'))
  const pool = new WorkerPool({
    target,
    logDir: dir,
    namePrefix: `${name}-${randomBytes(2).toString('hex')}`,
    leaseMs,
    workMs: [30, 150],
  })
  const violations: string[] = []
  const point = spec.point ?? faultPoint(spec.fault, spec.backend, r.int(0, 1_000), 0)
  const delayMs = spec.fault === 'kill' ? r.int(30, 1_200) : r.int(30, 600)
  const victimIndex = r.int(0, 2)
  let landed = 'timer'
  const result = (where: string, figures: Figures): TrialResult => ({
    name,
    backend: spec.backend,
    fault: spec.fault,
    seed: spec.seed,
    point,
    landed: where,
    delayMs,
    figures,
    violations,
    durationMs: Date.now() - started,
  })
  try {
    await target.install()
    const enqueued = await enqueueWorkload(target, size)
    const stallMs = leaseMs + r.int(500, 900)
    const children = await Promise.all(
      [0, 1, 2].map((i) =>
        pool.spawn(
          spec.fault === 'stall' && i === victimIndex
            ? { stall: { point, afterMs: delayMs, ms: stallMs } }
            : {},
        ),
      ),
    )
    const victim = children[victimIndex]!
    const goAt = Date.now()
    const faulted = new Map<number, 'killed' | 'paused' | 'stalled'>()
    if (spec.fault === 'stall') {
      // The victim stalls by itself at the armed point (it reports `stall`).
      const m = await victim
        .waitFor((x) => x.t === 'phase' && x.phase === 'stall', delayMs + 5_000)
        .catch(() => null)
      landed =
        m && m.t === 'phase'
          ? `${(m as any).point}${(m as any).slow ? ' (slow)' : ''}${(m as any).late ? ' (late)' : ''}`
          : 'never'
      faulted.set(victim.pid, 'stalled')
    } else {
      // After the delay, at the victim's next report of the chosen phase (or after 1.5 s anyway).
      await new Promise((res) => setTimeout(res, delayMs))
      landed = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => {
          off()
          resolve('timer')
        }, 1_500)
        const off = victim.onMessage((m) => {
          if (!matches(point, m)) return
          clearTimeout(timer)
          off()
          // act synchronously, while the child is still inside the phase
          if (spec.fault === 'kill') {
            pool.killedOnPurpose(victim)
            victim.kill()
          } else victim.pause()
          resolve(
            (m as { phase: string }).phase + ((m as { slow?: boolean }).slow ? ' (slow)' : ''),
          )
        })
      })
    }
    const faultAt = Date.now()
    if (spec.fault === 'kill') {
      pool.killedOnPurpose(victim)
      victim.kill()
      faulted.set(victim.pid, 'killed')
      await victim.exited
      await pool.spawn() // the replacement
    } else if (spec.fault === 'pause') {
      victim.pause()
      faulted.set(victim.pid, 'paused')
      await new Promise((res) => setTimeout(res, leaseMs + r.int(250, 600)))
      victim.resume()
    }
    const done = await waitForCompletion(target, 60_000)
    if (!done) violations.push(`workload did not finish within 60 s after the ${spec.fault}`)
    violations.push(...(await pool.stopAll()))
    const check = await checkWorkload(target, pool, enqueued, { faulted, strict: true })
    violations.push(...check.violations)
    return result(`${landed} @${faultAt - goAt} ms`, check.figures)
  } catch (e) {
    violations.push(`trial failed: ${(e as Error).stack ?? e}`)
    return result(landed, emptyFigures())
  } finally {
    pool.killAll()
    await target.close().catch(() => {})
  }
}
