// The runner: for each repetition, each row of each selected workload, each subject of the row in
// turn (rotated per repetition, so slow drift of the machine hits every system alike): a prepare
// child (install + fill), then a measure child, then the schema or file is removed.
import { runChild } from './fork.ts'
import type { BenchOptions } from './options.ts'
import type { Targets } from './targets.ts'
import type { Measurement, Subject, WorkloadId } from './types.ts'
import { WORKLOADS } from './workloads/index.ts'
import type { Row } from './workloads/workload.ts'

/** One measurement of one subject in one row. */
export interface Run {
  readonly rep: number
  readonly measurement: Measurement | null
  readonly rssMb: number | null
  readonly error: string | null
  readonly wallS: number
}

export interface RowResult {
  readonly workload: WorkloadId
  readonly row: Row
  readonly subject: Subject
  readonly runs: Run[]
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

function fmt(m: Measurement, unit: string): string {
  const v = m.value >= 100 ? Math.round(m.value).toLocaleString('en-US') : m.value.toFixed(2)
  return `${v} ${unit}${m.note ? ` (${m.note})` : ''}`
}

async function measureOnce(
  targets: Targets,
  workload: WorkloadId,
  row: Row,
  subject: Subject,
  analyze: boolean,
): Promise<Omit<Run, 'rep'>> {
  const started = performance.now()
  const target = targets.create(subject)
  const task = { workload, subject, target, params: row.params }
  try {
    const prepareMs = Math.max(600_000, Number(row.params.messages ?? 0) * 2)
    const prep = await runChild({ ...task, phase: 'prepare' }, prepareMs)
    if (!prep.ok) throw new Error(`prepare failed: ${prep.error}`)
    if (analyze) await targets.analyze(target)
    const res = await runChild({ ...task, phase: 'measure' }, row.timeoutMs, row.execArgv)
    if (!res.ok) throw new Error(res.error)
    return {
      measurement: res.measurement,
      rssMb: res.maxRssMb,
      error: null,
      wallS: (performance.now() - started) / 1000,
    }
  } catch (e) {
    return {
      measurement: null,
      rssMb: null,
      error: (e as Error).message,
      wallS: (performance.now() - started) / 1000,
    }
  } finally {
    await targets.dispose(target)
  }
}

/** Runs the plan and returns every row × subject with its runs (failed runs keep their error). */
export async function runBench(o: BenchOptions, targets: Targets): Promise<RowResult[]> {
  const ids: WorkloadId[] = [...o.only, ...(o.rss ? (['rss'] as const) : [])]
  const plan = ids
    .flatMap((id) => WORKLOADS[id].rows(o).map((row) => ({ id, row })))
    .filter(({ row }) => o.rows.length === 0 || o.rows.some((k) => row.key.includes(k)))
  const results = new Map<string, RowResult>()
  for (const { id, row } of plan) {
    for (const subject of row.subjects) {
      results.set(`${id}/${row.key}/${subject.label}`, { workload: id, row, subject, runs: [] })
    }
  }
  const total = results.size * o.reps
  let n = 0
  for (let rep = 0; rep < o.reps; rep++) {
    for (const [r, { id, row }] of plan.entries()) {
      for (const subject of rotate(row.subjects, rep + r)) {
        n++
        const cells = Object.values(row.cells).join(', ')
        const head = `[${n}/${total}] rep ${rep + 1} (${id}) ${cells} ${subject.label}`
        const run = { rep, ...(await measureOnce(targets, id, row, subject, o.analyze)) }
        results.get(`${id}/${row.key}/${subject.label}`)!.runs.push(run)
        const unit = WORKLOADS[id].metric.unit
        const what = run.measurement ? fmt(run.measurement, unit) : `FAILED: ${run.error}`
        const rss = run.rssMb === null ? '' : `, RSS ${Math.round(run.rssMb)} MB`
        console.log(`${head}: ${what}${rss} [${run.wallS.toFixed(1)} s]`)
      }
    }
  }
  return [...results.values()]
}
