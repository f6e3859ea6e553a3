/**
 * Kill trials (and their stall and pause variants) on Postgres and SQLite: each trial runs a fresh
 * workload on 3 worker processes, injects one fault at a random moment, waits for the workload to
 * finish and checks the invariants (src/invariants.ts).
 */
import path from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { addFigures, emptyFigures, type Figures } from '../src/invariants.ts'
import { writeSection } from '../src/results.ts'
import { chaosSettings } from '../src/settings.ts'
import { type FaultKind, faultPoint, runTrial, type TrialResult } from '../src/trial.ts'

const settings = chaosSettings()
const pgUrl = inject('pgUrl')
const tmpRoot = inject('tmpRoot')
const started = Date.now()
const results: TrialResult[] = []

interface Planned {
  readonly backend: 'postgres' | 'sqlite'
  readonly fault: FaultKind
  readonly index: number
  readonly seed: number
}

const plan: Planned[] = []
const add = (backend: Planned['backend'], fault: FaultKind, n: number) => {
  for (let i = 0; i < n; i++) {
    plan.push({ backend, fault, index: i, seed: settings.seed + plan.length * 7_919 })
  }
}
add('postgres', 'kill', settings.pgTrials)
add('sqlite', 'kill', settings.sqliteTrials)
add('postgres', 'stall', settings.pgStallTrials)
add('sqlite', 'stall', settings.sqliteStallTrials)
add('postgres', 'pause', settings.pgPauseTrials)
add('sqlite', 'pause', settings.sqlitePauseTrials)

function summary() {
  const by = (pred: (r: TrialResult) => boolean) => {
    const rs = results.filter(pred)
    return {
      trials: rs.length,
      figures: rs.reduce<Figures>((acc, r) => addFigures(acc, r.figures), emptyFigures()),
      failed: rs.filter((r) => r.violations.length > 0).length,
    }
  }
  const landed: Record<string, number> = {}
  for (const r of results) {
    const where = `${r.fault} @ ${r.landed.replace(/ @\d+ ms$/, '').replace(/ \((slow|late)\)/g, '')}`
    landed[where] = (landed[where] ?? 0) + 1
  }
  return {
    mode: settings.mode,
    seed: settings.seed,
    planned: plan.length,
    total: by(() => true),
    byKind: {
      'postgres kill': by((r) => r.backend === 'postgres' && r.fault === 'kill'),
      'sqlite kill': by((r) => r.backend === 'sqlite' && r.fault === 'kill'),
      'postgres stall': by((r) => r.backend === 'postgres' && r.fault === 'stall'),
      'sqlite stall': by((r) => r.backend === 'sqlite' && r.fault === 'stall'),
      'postgres pause': by((r) => r.backend === 'postgres' && r.fault === 'pause'),
      'sqlite pause': by((r) => r.backend === 'sqlite' && r.fault === 'pause'),
    },
    landed,
    trials: results.map((r) => ({
      name: r.name,
      seed: r.seed,
      point: r.point,
      landed: r.landed,
      ms: r.durationMs,
      violations: r.violations.length,
    })),
  }
}

describe('kill trials', () => {
  afterAll(() => {
    writeSection({
      section: 'kill-trials',
      violations: results.flatMap((r) =>
        r.violations.map((v) => `${r.name} (seed ${r.seed}): ${v}`),
      ),
      durationMs: Date.now() - started,
      data: summary(),
    })
  })

  for (const p of plan) {
    const point = faultPoint(p.fault, p.backend, p.index, settings.seed)
    // Postgres trials skip only when no PostgreSQL could be had at all (global-setup says why).
    it.skipIf(p.backend === 'postgres' && !pgUrl)(
      `${p.backend}: ${p.fault} trial ${p.index + 1} at ${point} (seed ${p.seed})`,
      async () => {
        const r = await runTrial({
          ...p,
          point,
          pgUrl,
          tmpDir: path.join(tmpRoot, 'trials'),
        })
        results.push(r)
        expect(r.violations, `${r.name}: fault at ${r.point}, landed ${r.landed}`).toEqual([])
        expect(r.figures.lost).toBe(0)
        expect(r.figures.runsStuck).toBe(0)
      },
      120_000,
    )
  }
})
