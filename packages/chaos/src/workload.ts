/**
 * The workload of a trial: plain queue messages and runs of the 3-step chaos workflow (see
 * children/worker.ts), worked by forked worker children that the trial can kill, pause and replace.
 */
import fs from 'node:fs'
import path from 'node:path'
import { type ChildHandle, forkChild, stopChild } from './fork.ts'
import {
  type CheckOptions,
  type CheckResult,
  checkInvariants,
  collectEvidence,
  type Enqueued,
  readLogs,
} from './invariants.ts'
import type { FromWorker, WorkerChildArgs } from './protocol.ts'
import type { Target } from './target.ts'

export const QUEUE = 'chaos_q'
export const WORKFLOW = 'chaos_wf'

export interface WorkloadSize {
  readonly messages: number
  readonly runs: number
  /** Every n-th message / run is slow. */
  readonly slowEvery: number
}

/** Enqueues the plain messages (one statement) and starts the runs. */
export async function enqueueWorkload(
  target: Target,
  size: WorkloadSize,
  seqBase = 0,
): Promise<Enqueued> {
  const { store } = target
  await store.queue(QUEUE)
  await store.workflows.ensure(WORKFLOW)
  const items = Array.from({ length: size.messages }, (_, i) => ({
    payload: { seq: seqBase + i, slow: (seqBase + i) % size.slowEvery === size.slowEvery - 1 },
  }))
  const msgs = items.length > 0 ? await store.messages.enqueue(QUEUE, items) : []
  const runs = new Map<number, number>()
  for (let i = 0; i < size.runs; i++) {
    const seq = seqBase + i
    const { run, message } = await store.runs.start(WORKFLOW, {
      seq,
      slow: seq % size.slowEvery === size.slowEvery - 1,
    })
    runs.set(run.id, message.id)
  }
  return { messages: msgs.map((m) => m.id), runs }
}

export interface WorkerPoolOptions {
  readonly target: Target
  /** DSN the children use (default: the target's). */
  readonly dsn?: string
  readonly logDir: string
  readonly namePrefix: string
  readonly leaseMs: number
  readonly pollIntervalMs?: number
  readonly concurrency?: number
  readonly workMs?: readonly [number, number]
  readonly slowMs?: readonly [number, number]
  readonly maxErrorBackoffMs?: number
  readonly connectTimeoutMs?: number
  /** The children's `statementTimeoutMs` (default: the library's). */
  readonly statementTimeoutMs?: number
}

/** Forked worker children working one target; every child ever started is kept for the evidence. */
export class WorkerPool {
  readonly children: ChildHandle<FromWorker>[] = []
  readonly logDir: string
  /** Children that died by themselves (a crash) and were replaced, as a supervisor would. */
  readonly crashed: { pid: number; name: string; code: number | null; signal: string | null }[] = []
  readonly #o: WorkerPoolOptions
  #n = 0
  #stopping = false
  /** Replace children that die by themselves (on by default; the trials' own kills are not replaced). */
  supervise = true
  readonly #killedOnPurpose = new Set<number>()

  constructor(options: WorkerPoolOptions) {
    this.#o = options
    this.logDir = options.logDir
    fs.mkdirSync(options.logDir, { recursive: true })
  }

  /** Starts a child, waits for `ready` and tells it to go. */
  async spawn(extra: Partial<WorkerChildArgs> = {}): Promise<ChildHandle<FromWorker>> {
    const o = this.#o
    const name = `${o.namePrefix}-${this.#n++}`
    const args: WorkerChildArgs = {
      dsn: o.dsn ?? o.target.dsn,
      config: {
        ...o.target.config,
        maxConnections: 4,
        heartbeatIntervalMs: 1_000,
        connectTimeoutMs: o.connectTimeoutMs ?? 5_000,
        ...(o.statementTimeoutMs === undefined ? {} : { statementTimeoutMs: o.statementTimeoutMs }),
      },
      name,
      queue: QUEUE,
      workflow: WORKFLOW,
      schema: o.target.schema,
      logDir: o.logDir,
      concurrency: o.concurrency ?? 2,
      leaseMs: o.leaseMs,
      pollIntervalMs: o.pollIntervalMs ?? 100,
      workMs: o.workMs ?? [10, 60],
      slowMs: o.slowMs ?? [900, 1_300],
      maxErrorBackoffMs: o.maxErrorBackoffMs,
      ...extra,
    }
    const child = forkChild<FromWorker>('worker', name, args)
    this.children.push(child)
    void child.exited.then(({ code, signal }) => {
      if (this.#stopping || this.#killedOnPurpose.has(child.pid)) return
      this.crashed.push({ pid: child.pid, name, code, signal })
      if (this.supervise) void this.spawn().catch(() => {})
    })
    await child.waitFor((m) => m.t === 'ready', 30_000)
    child.send({ t: 'go' })
    return child
  }

  /** SIGKILLs every child (cleanup); none is replaced. */
  killAll(): void {
    this.#stopping = true
    for (const c of this.children) c.kill()
  }

  /** Marks a child as killed by the suite (it is not replaced automatically). */
  killedOnPurpose(child: ChildHandle<FromWorker>): void {
    this.#killedOnPurpose.add(child.pid)
  }

  get alive(): ChildHandle<FromWorker>[] {
    return this.children.filter((c) => c.alive)
  }

  /** Stops every live child gracefully; returns the ones that did not exit 0 by themselves. */
  async stopAll(): Promise<string[]> {
    const problems: string[] = []
    this.#stopping = true
    await Promise.all(
      this.alive.map(async (c) => {
        const r = await stopChild(c)
        if (r.forced) problems.push(`${c.name} (pid ${c.pid}) did not stop within 15 s`)
        else if (r.code !== 0)
          problems.push(`${c.name} (pid ${c.pid}) exited with ${r.code ?? r.signal}`)
      }),
    )
    return problems
  }
}

/** Waits until no message is active and every run is finished; false on timeout. */
export async function waitForCompletion(target: Target, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const p = await target.progress()
      if (p.active === 0 && p.unfinishedRuns === 0) return true
    } catch {
      // the database may be restarting
    }
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Final checks of a workload: database snapshot + logs + IPC evidence. */
export async function checkWorkload(
  target: Target,
  pool: WorkerPool,
  enqueued: Enqueued,
  opts: CheckOptions,
): Promise<CheckResult> {
  const snap = await target.snapshot()
  const logs = readLogs(pool.logDir)
  const faulted = new Map(opts.faulted)
  for (const c of pool.crashed) if (!faulted.has(c.pid)) faulted.set(c.pid, 'crashed')
  const result = checkInvariants(snap, enqueued, logs, collectEvidence(pool.children), {
    ...opts,
    faulted,
  })
  for (const c of pool.crashed) {
    const reported = pool.children
      .find((x) => x.pid === c.pid)
      ?.inbox.some((m) => m.message.t === 'crash')
    if (!reported) {
      result.violations.push(
        `${c.name} (pid ${c.pid}) died by itself (exit ${c.code ?? c.signal}) without a crash report`,
      )
      result.figures.crashes++
    }
  }
  return result
}

export function trialDir(root: string, name: string): string {
  const dir = path.join(root, name)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  return dir
}
