/**
 * `pnpm demo`: pgqrs in under a minute, on an embedded SQLite file (or on `PGQRS_DSN`).
 *   1. a queue: a few hundred jobs drained by a worker, with a live progress bar;
 *   2. a durable workflow whose worker process is SIGKILLed after step 2, then resumed by a new
 *      worker process from its last completed step;
 *   3. a summary, checked: the demo exits 1 when a completed step ran twice or a job was lost.
 */
import * as pgqrs from 'pgqrs'
import { type DemoBackend, openDemoBackend } from './backend.ts'
import { heading, paint, say } from './output.ts'
import { runQueuePhase } from './queue-phase.ts'
import { printSummary } from './summary.ts'
import { children, runWorkflowPhase } from './workflow-phase.ts'

const JOBS = 400

let backend: DemoBackend | null = null

async function abort(signal: string): Promise<void> {
  for (const child of children) child.kill('SIGKILL')
  await backend?.cleanup().catch(() => {})
  say(`\ndemo interrupted (${signal})`)
  process.exit(130)
}
process.once('SIGINT', () => void abort('SIGINT'))
process.once('SIGTERM', () => void abort('SIGTERM'))

const t0 = Date.now()
try {
  backend = await openDemoBackend(process.env)
  say(paint('bold', 'pgqrs demo'))
  say(`  backend: ${backend.label}`)
  await pgqrs.admin(backend.store).install() // creates the pgqrs tables; idempotent
  const queue = await runQueuePhase(backend.store, JOBS)
  const workflow = await runWorkflowPhase(backend)
  heading('3. Summary')
  const ok = printSummary(queue, workflow, Date.now() - t0)
  process.exitCode = ok ? 0 : 1
} catch (e) {
  for (const child of children) child.kill('SIGKILL')
  say(paint('red', `demo failed: ${(e as Error).stack ?? e}`))
  process.exitCode = 1
} finally {
  await backend?.cleanup()
}
