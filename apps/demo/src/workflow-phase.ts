import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type * as pgqrs from 'pgqrs'
import type { DemoBackend } from './backend.ts'
import {
  type LogEntry,
  type OrderOutput,
  orderWorkflow,
  readLog,
  STEPS,
  WORKFLOW,
} from './order-workflow.ts'
import { heading, paint, say, seconds, waitUntil } from './output.ts'

/** What the workflow part of the demo observed. */
export interface WorkflowResult {
  readonly runId: number
  readonly status: string
  readonly output: OrderOutput | null
  readonly ms: number
  readonly log: LogEntry[]
  readonly killedPid: number
  readonly resumedPid: number
}

const CHILD = fileURLToPath(new URL('./workflow-child.ts', import.meta.url))
const LEASE_MS = 1_500
const STEP_MS = 400

/** Live worker processes, so that an interrupted demo can end them. */
export const children = new Set<ChildProcess>()

/** Forks a workflow worker process and waits until it polls. */
async function startWorker(backend: DemoBackend, label: string, logFile: string) {
  const child = fork(CHILD, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      PGQRS_DEMO_CHILD: JSON.stringify({
        label,
        dsn: backend.dsn,
        config: backend.config,
        logFile,
        stepMs: STEP_MS,
        leaseMs: LEASE_MS,
      }),
    },
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  const [msg] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`worker ${label} exited with code ${code} before it was ready`)
    }),
  ])) as [{ type?: string }]
  if (msg?.type !== 'ready') throw new Error(`worker ${label} sent ${JSON.stringify(msg)}`)
  return child
}

/** Steps of the run that are stored as SUCCESS. */
async function storedSteps(store: pgqrs.Store, runId: number): Promise<string[]> {
  const steps = await store.steps.list(runId)
  return steps.filter((s) => s.status === 'SUCCESS').map((s) => s.stepKey)
}

/**
 * Starts a run, forks worker A, SIGKILLs it as soon as step 2 is stored, forks worker B and
 * waits for the run to finish: B replays steps 1-2 from their stored results and runs 3-4.
 */
export async function runWorkflowPhase(backend: DemoBackend): Promise<WorkflowResult> {
  const { store } = backend
  heading('2. Durable workflow: 4 steps, worker process killed with SIGKILL after step 2')
  const logFile = join(backend.dir, 'step-executions.jsonl')
  // The parent only starts the run; the definition's body runs in the worker processes.
  const definition = orderWorkflow({ logFile, stepMs: STEP_MS, print: say })
  const started = Date.now()
  const handle = await definition.start(store, { orderId: 'A-1001', amountCents: 4_200 })
  say(`  started run ${handle.id} of "${WORKFLOW}" (status ${(await handle.status()).status})`)

  const a = await startWorker(backend, 'A', logFile)
  await waitUntil(
    'step 2 stored',
    async () => ((await storedSteps(store, handle.id)).includes(STEPS[1]) ? true : undefined),
    { timeoutMs: 20_000, everyMs: 10 },
  )
  a.kill('SIGKILL')
  const [, signal] = await once(a, 'exit')
  say(
    paint('red', `  ✗ SIGKILL → worker A (pid ${a.pid}) died (${signal}) with step 2 stored`) +
      ', in the middle of the run',
  )
  say(`  stored steps now: ${(await storedSteps(store, handle.id)).join(', ')}`)
  say(
    `  starting worker B; the run's message is still leased by the dead worker and comes back when ` +
      `that lease runs out (≤ ${seconds(LEASE_MS)})`,
  )
  const b = await startWorker(backend, 'B', logFile)
  let output: OrderOutput | null = null
  try {
    output = await handle.result({ timeoutMs: 30_000 }) // NOTIFY on Postgres, polling elsewhere
  } catch (e) {
    say(paint('red', `  the run did not succeed: ${(e as Error).message}`))
  }
  const run = await handle.status()
  const ms = Date.now() - started
  b.kill('SIGTERM')
  await once(b, 'exit')
  return {
    runId: handle.id,
    status: run.status,
    output,
    ms,
    log: readLog(logFile),
    killedPid: a.pid!,
    resumedPid: b.pid!,
  }
}
