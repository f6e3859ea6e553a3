import { RUN_STATUSES, type RunStatus } from '@pgqrs/core'
import type { DashboardSource } from './source.js'

/** Runs by status, exact or over the newest runs only. */
export interface RunCounts {
  readonly counts: Readonly<Record<RunStatus, number>>
  /** Null when the counts are exact; otherwise how many of the newest runs were counted. */
  readonly sampleOf: number | null
}

/** Newest runs counted when the source cannot count by status itself. */
export const RUN_COUNT_SAMPLE = 200

/**
 * Runs by status in one bounded query: the source's exact counts when it has them, otherwise the
 * statuses of the newest {@link RUN_COUNT_SAMPLE} runs (the page says which).
 */
export async function runCounts(source: DashboardSource): Promise<RunCounts> {
  const counts = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>
  if (source.runStatusCounts) {
    const exact = await source.runStatusCounts()
    for (const s of RUN_STATUSES) counts[s] = exact[s] ?? 0
    return { counts, sampleOf: null }
  }
  const runs = await source.runs({ limit: RUN_COUNT_SAMPLE })
  for (const r of runs) counts[r.status]++
  return { counts, sampleOf: runs.length }
}
