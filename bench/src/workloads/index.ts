import type { WorkloadId } from '../types.ts'
import { drain } from './drain.ts'
import { embedded } from './embedded.ts'
import { latency } from './latency.ts'
import { rss } from './rss.ts'
import { spawn } from './spawn.ts'
import { steady } from './steady.ts'
import { workflow } from './workflow.ts'
import type { Workload } from './workload.ts'

/** Every workload, in report order. */
export const WORKLOADS: Readonly<Record<WorkloadId, Workload>> = {
  a: drain,
  b: steady,
  c: latency,
  d: workflow,
  e: embedded,
  f: spawn,
  rss,
}
