// Turns the runs of each row × subject into the numbers the report shows.
import type { RowResult } from './runner.ts'
import { WORKLOADS } from './workloads/index.ts'

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** One cell group of a table row: a subject's medians over its successful runs. */
export interface Summary {
  readonly result: RowResult
  readonly median: number
  readonly min: number
  readonly max: number
  readonly extras: Readonly<Record<string, number>>
  /** Highest peak RSS of its measuring children, MB. */
  readonly rssMb: number
  /** median ÷ the best peer's median in the same row (NaN when the row has no peer). */
  readonly ratio: number
  readonly ok: number
  readonly failed: number
  readonly notes: readonly string[]
}

function summarise(result: RowResult): Omit<Summary, 'ratio'> {
  const ok = result.runs.filter((r) => r.measurement !== null)
  const values = ok.map((r) => r.measurement!.value)
  const keys = new Set(ok.flatMap((r) => Object.keys(r.measurement!.extra)))
  const extras = Object.fromEntries(
    [...keys].map((k) => [
      k,
      median(ok.map((r) => r.measurement!.extra[k]!).filter(Number.isFinite)),
    ]),
  )
  return {
    result,
    median: median(values),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
    extras,
    rssMb: Math.max(...ok.map((r) => r.rssMb ?? 0)),
    ok: ok.length,
    failed: result.runs.length - ok.length,
    notes: [...new Set(ok.map((r) => r.measurement!.note).filter((n) => n !== undefined))],
  }
}

/** Summaries grouped by workload, then row (in plan order), with ratios to the best peer. */
export function summarize(results: readonly RowResult[]): Map<string, Map<string, Summary[]>> {
  const out = new Map<string, Map<string, Summary[]>>()
  const rows = new Map<string, RowResult[]>()
  for (const r of results) {
    const key = `${r.workload}/${r.row.key}`
    rows.set(key, [...(rows.get(key) ?? []), r])
  }
  for (const group of rows.values()) {
    const w = WORKLOADS[group[0]!.workload]
    const base = group.map(summarise)
    const peers = base.filter(
      (s) => s.result.subject.system !== 'pgqrs' && Number.isFinite(s.median),
    )
    const best = peers.length
      ? (w.metric.higherIsBetter ? Math.max : Math.min)(...peers.map((s) => s.median))
      : Number.NaN
    const summaries = base.map((s) => ({ ...s, ratio: w.peers ? s.median / best : Number.NaN }))
    const byRow = out.get(w.id) ?? new Map<string, Summary[]>()
    byRow.set(group[0]!.row.key, summaries)
    out.set(w.id, byRow)
  }
  return out
}
