// One worker process of workload (f): started by the measuring child after the backlog is in
// place, it opens its system and consumes until told to stop. Its task comes in the environment
// (PGQRS_BENCH_TASK) so that nothing waits for a message before the process starts working; it
// reports handled counts every 25 ms, and when it started and handled its first message as
// epoch milliseconds (performance.timeOrigin + performance.now()), so the parent times from spawn.
import { loadSystem } from './systems/system.ts'
import type { Subject, Target } from './types.ts'

/** What the measuring child hands each worker process. */
export interface ProcTask {
  readonly subject: Subject
  readonly target: Target
  readonly batch: number
  readonly concurrency: number
  readonly prefetch: number | undefined
}

/** What a worker process reports. */
export interface ProcReport {
  readonly handled: number
  /** When consume() was called and when it resolved (the worker is running), epoch ms. */
  readonly startCalled: number
  readonly started: number | null
  readonly first: number | null
  readonly final?: { readonly maxRssMb: number }
}

const now = () => performance.timeOrigin + performance.now()
const task = JSON.parse(process.env.PGQRS_BENCH_TASK ?? 'null') as ProcTask
let handled = 0
let first: number | null = null
let started: number | null = null
const sys = (await loadSystem(task.subject.system)).open(task.target, task.subject)
const startCalled = now()
const report = (extra: Partial<ProcReport> = {}): ProcReport => ({
  handled,
  startCalled,
  started,
  first,
  ...extra,
})
const running = await sys.consume({
  consumers: 1,
  batch: task.batch,
  concurrency: task.concurrency,
  ...(task.prefetch === undefined ? {} : { prefetch: task.prefetch }),
  onMessage: () => {
    if (handled++ === 0) first = now()
  },
})
started = now()
const timer = setInterval(() => process.send!(report()), 25)
process.on('message', async (m) => {
  if (m !== 'stop') return
  clearInterval(timer)
  // graphile-worker's runner may have stopped itself already ("Runner is already stopped")
  await running.stop().catch(() => {})
  await sys.close().catch(() => {})
  const maxRssMb = process.resourceUsage().maxRSS / 1024
  process.send!(report({ final: { maxRssMb } }), () => process.exit(0))
})
