/**
 * Chaos worker child: `connect(dsn)`, a queue `worker()` and a `workflowWorker()` with short leases,
 * reporting every phase, every lease it is granted and every error to the parent over IPC, so
 * the parent can SIGKILL (or SIGSTOP) it at a chosen moment and later tell which deliveries were
 * interrupted. Side effects go to append-only logs in `logDir`:
 *   handled.log  `<messageId> <pid> <lease> queue`       (one line per queue handler execution)
 *   steps.log    `<runId> <step> <pid> <lease>`          (one line per step function execution)
 * and the transactional step inserts one row into `chaos_tx` in the same database.
 */
import { appendFileSync } from 'node:fs'
import path from 'node:path'
import { connect, PgqrsError, type QueueMessage, type Store } from '@pgqrs/core'
import { worker } from '@pgqrs/queue'
import { defineWorkflow, workflowWorker } from '@pgqrs/workflow'
import type { LeaseGrant, Phase, WorkerChildArgs } from '../protocol.ts'
import { childArgs, errorInfo, reportCrashes, send, sleep, when } from './runtime.ts'
import { reportingTransaction } from './tx-settles.ts'

reportCrashes()
const args = childArgs<WorkerChildArgs>()
const pid = process.pid
const handledLog = path.join(args.logDir, 'handled.log')
const stepsLog = path.join(args.logDir, 'steps.log')

const between = ([lo, hi]: readonly [number, number]) =>
  lo + Math.floor(Math.random() * (hi - lo + 1))
const phase = (p: Phase, data: Record<string, unknown> = {}) =>
  send({ t: 'phase', phase: p, at: Date.now(), ...data })

/**
 * A simulated network stall of this process only: while it lasts, every store call of this
 * process waits (as if its packets were stuck), then proceeds. Armed by the parent through
 * `args.stall`: the first store call at the chosen point after `afterMs` starts it.
 */
let healAt = 0
let stallArmedAt = Number.POSITIVE_INFINITY
let stalled = false
const slowRuns = new Set<number>()

async function gate(point: string, slow: boolean, data: Record<string, unknown>): Promise<void> {
  const stall = args.stall
  if (stall && !stalled && Date.now() >= stallArmedAt) {
    const wanted = stall.point.endsWith('-slow') ? stall.point.slice(0, -5) : stall.point
    const late = Date.now() > stallArmedAt + 1_500 // the point never came: stall anywhere
    if (
      late ||
      ((wanted === 'any' || wanted === point) && (!stall.point.endsWith('-slow') || slow))
    ) {
      stalled = true
      healAt = Date.now() + stall.ms
      await send({ t: 'phase', phase: 'stall', at: Date.now(), point, slow, late, ...data })
    }
  }
  while (Date.now() < healAt) await sleep(healAt - Date.now())
}

type Fn = (...a: any[]) => Promise<any>

/** The lease each run's delivery in this process holds, from the run's start transition. */
const leaseOfRun = new Map<number, string | null>()

/** Wraps every method of a repository with the stall gate. */
function gateAll(repo: object, name: string): void {
  const obj = repo as Record<string, Fn>
  for (const key of Object.getOwnPropertyNames(Object.getPrototypeOf(repo))) {
    if (key === 'constructor' || typeof obj[key] !== 'function') continue
    const orig = obj[key]!.bind(repo)
    obj[key] = async (...a: unknown[]) => {
      await gate(`${name}.${key}`, false, {})
      return orig(...a)
    }
  }
}

/**
 * Reports a settle (archive, delete, release, fail) that threw, for the messages it carried. Its
 * outcome is unknown, not "failed": a connection lost after the COMMIT was sent raises an error
 * although the change committed (a release or fail that did so gave the message back).
 */
async function reportSettleUnknown(
  op: string,
  list: readonly { id: number; lease?: string | null }[],
  e: unknown,
): Promise<void> {
  await send({
    t: 'settle-unknown',
    at: Date.now(),
    op,
    refs: list.map((r) => [r.id, r.lease ?? null] as const),
    error: errorInfo(e),
  })
}

/** Reports granted leases; awaited, so the parent knows every lease before a handler runs under it. */
async function reportLeases(got: readonly QueueMessage[], leaseMs: number): Promise<void> {
  if (got.length === 0) return
  const grants: LeaseGrant[] = got.map((m) => [
    m.id,
    m.lease ?? '',
    m.visibleAt.getTime() - leaseMs,
    m.visibleAt.getTime(),
  ])
  await send({ t: 'leased', at: Date.now(), grants })
}

/**
 * Wraps the store's repositories: every claim, settle and step write is reported first (phase),
 * leases are reported as soon as they are granted, settle errors are reported, and every call
 * passes the stall gate.
 */
function instrument(store: Store): void {
  for (const name of ['queues', 'messages', 'workers', 'workflows', 'runs', 'steps'] as const)
    gateAll(store[name], name)
  const messages = store.messages as unknown as Record<string, Fn>
  const dequeue = messages.dequeue!
  messages.dequeue = async (queue: string, options: { leaseMs: number }) => {
    await phase('dequeue')
    await gate('dequeue', false, {})
    const got = (await dequeue(queue, options)) as QueueMessage[]
    await reportLeases(got, options.leaseMs)
    return got
  }
  // The worker's claim that also settles its finished messages: reported as both, in that order.
  const settleAndDequeue = messages.settleAndDequeue!
  messages.settleAndDequeue = async (
    refs: any[],
    queue: string,
    options: { leaseMs: number; settle?: 'archive' | 'delete' },
  ) => {
    const op = options.settle ?? 'archive'
    const list = refs as { id: number; lease?: string | null; payload?: { slow?: boolean } }[]
    if (list.length > 0) {
      await phase('archive', { id: list[0]?.id })
      await gate(
        'archive',
        list.some((m) => m.payload?.slow === true),
        { id: list[0]?.id },
      )
    }
    await phase('dequeue')
    await gate('dequeue', false, {})
    let got: { settled: boolean[]; messages: QueueMessage[] }
    try {
      got = (await settleAndDequeue(refs, queue, options)) as typeof got
    } catch (e) {
      if (list.length > 0) await reportSettleUnknown(op, list, e)
      throw e
    }
    if (list.length > 0) {
      await send({
        t: 'settled',
        at: Date.now(),
        op,
        results: list.map((m, i) => [m.id, m.lease ?? null, got.settled[i] === true]),
      })
    }
    await reportLeases(got.messages, options.leaseMs)
    return got
  }
  for (const op of ['archive', 'release', 'delete', 'fail']) {
    const orig = messages[op]!
    messages[op] = async (refs: any, ...rest: unknown[]) => {
      const list: { id: number; lease?: string | null; payload?: { slow?: boolean } }[] =
        Array.isArray(refs) ? refs : [refs]
      if (op === 'archive') {
        await phase('archive', { id: list[0]?.id })
        await gate(
          'archive',
          list.some((m) => m.payload?.slow === true),
          { id: list[0]?.id },
        )
      }
      try {
        const result = await orig(refs, ...rest)
        if (op !== 'fail') {
          const oks = result as boolean[]
          await send({
            t: 'settled',
            at: Date.now(),
            op,
            results: list.map((m, i) => [m.id, m.lease ?? null, oks[i] === true]),
          })
        } else {
          await send({
            t: 'settled',
            at: Date.now(),
            op,
            results: [[list[0]!.id, list[0]!.lease ?? null, result !== 'lost']],
          })
        }
        return result
      } catch (e) {
        await reportSettleUnknown(op, list, e)
        throw e
      }
    }
  }
  const steps = store.steps as unknown as Record<string, Fn>
  const complete = steps.complete!
  steps.complete = async (runId: number, step: string, output: unknown, lease: string | null) => {
    await phase('step-complete', { runId, step, lease })
    await gate('step-complete', slowRuns.has(runId), { runId, step })
    return complete(runId, step, output, lease)
  }
  // The workflow body's context does not carry the lease: learn it from the run's start.
  const runs = store.runs as unknown as Record<string, Fn>
  const transition = runs.transition!.bind(store.runs)
  runs.transition = async (id: number, change: { to: string; lease?: string | null }) => {
    const run = await transition(id, change)
    if (change.to === 'RUNNING') leaseOfRun.set(id, change.lease ?? null)
    return run
  }
  // settles inside a transaction (a workflow delivery's release or archive) are reported too
  const transaction = reportingTransaction(store.transaction.bind(store))
  ;(store as { transaction: Store['transaction'] }).transaction = async (fn) => {
    await phase('transaction')
    await gate('transaction', false, {})
    return transaction(fn)
  }
}

interface Input {
  readonly seq: number
  readonly slow: boolean
}

const chaosWorkflow = defineWorkflow<Input, unknown>({
  name: args.workflow,
  async run(ctx, input) {
    const lease = leaseOfRun.get(ctx.runId) ?? null
    if (input.slow) slowRuns.add(ctx.runId)
    const work = () => between(input.slow ? args.slowMs : args.workMs)
    const plain = (step: string) => async () => {
      appendFileSync(stepsLog, `${ctx.runId} ${step} ${pid} ${lease}\n`)
      await phase('step', { runId: ctx.runId, step, lease, slow: input.slow })
      await sleep(work())
      return { pid, lease }
    }
    const a = await ctx.step('a', plain('a'))
    await send({ t: 'step-done', at: Date.now(), runId: ctx.runId, step: 'a', lease: a.lease })
    const b = await ctx.step(
      'b',
      async (tx: any) => {
        const db = args.schema ? tx.withSchema(args.schema) : tx
        await db
          .insertInto('chaos_tx')
          .values({ run_id: ctx.runId, step: 'b', pid, lease })
          .execute()
        appendFileSync(stepsLog, `${ctx.runId} b ${pid} ${lease}\n`)
        // No sleep in here: on SQLite the transaction holds the single write lock (and the store's
        // mutex), so slow work inside it would starve every lease renewal in every process.
        await phase('tx-step', { runId: ctx.runId, step: 'b', lease, slow: input.slow })
        return { pid, lease }
      },
      { transactional: true },
    )
    await send({ t: 'step-done', at: Date.now(), runId: ctx.runId, step: 'b', lease: b.lease })
    const c = await ctx.step('c', plain('c'))
    await send({ t: 'step-done', at: Date.now(), runId: ctx.runId, step: 'c', lease: c.lease })
    return { seq: input.seq, pid, lease, steps: [a, b, c].length }
  },
})

/**
 * Retries a startup step that failed with a typed pgqrs error (the database may be restarting, as
 * an application's supervisor would); an untyped error is re-thrown and reported as a crash.
 */
async function retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (e) {
      if (!PgqrsError.is(e) || attempt >= 60) throw e
      await send({ t: 'worker-error', at: Date.now(), error: errorInfo(e), during: what })
      await sleep(Math.min(50 * 2 ** attempt, 1_000))
    }
  }
}

const store = await retrying('connect', () => connect(args.dsn, { ...args.config, logger: false }))
instrument(store)

let handled = 0
let errors = 0
const options = {
  concurrency: args.concurrency,
  leaseMs: args.leaseMs,
  pollIntervalMs: args.pollIntervalMs,
  errorBackoffMs: 20,
  maxErrorBackoffMs: args.maxErrorBackoffMs ?? 1_000,
  graceMs: 5_000,
}
function makeWorkers(suffix: string) {
  const queueWorker = worker<Input>(
    store,
    args.queue,
    async (msg) => {
      appendFileSync(handledLog, `${msg.id} ${pid} ${msg.lease} queue\n`)
      handled++
      await phase('handler', { id: msg.id, lease: msg.lease, slow: msg.payload.slow })
      await sleep(between(msg.payload.slow ? args.slowMs : args.workMs))
    },
    { ...options, name: `${args.name}:q${suffix}` },
  )
  const flowWorker = workflowWorker(store, [chaosWorkflow], {
    ...options,
    name: `${args.name}:wf${suffix}`,
  })
  for (const w of [queueWorker, ...flowWorker.workers.values()]) {
    w.on('error', (e) => {
      errors++
      void send({ t: 'worker-error', at: Date.now(), error: errorInfo(e) })
    })
    w.on('lease:lost', (m) => {
      void send({ t: 'lease-lost', at: Date.now(), id: m.id, lease: m.lease })
    })
  }
  return { queueWorker, flowWorker }
}

/** Starts both workers; a start that fails on a store error is retried with fresh workers. */
async function startWorkers(): Promise<ReturnType<typeof makeWorkers>> {
  let n = 0
  return retrying('start', async () => {
    // a failed start may have registered its names: retry under new ones
    const w = makeWorkers(n++ === 0 ? '' : `:retry${n}`)
    try {
      await w.queueWorker.start()
      await w.flowWorker.start()
      return w
    } catch (e) {
      await Promise.all([
        w.queueWorker.stop({ graceMs: 0 }),
        w.flowWorker.stop({ graceMs: 0 }),
      ]).catch(() => {})
      throw e
    }
  })
}

const go = when('go')
const stop = when('stop')
await send({ t: 'ready', pid })
await go
if (args.stall) stallArmedAt = Date.now() + args.stall.afterMs
const { queueWorker, flowWorker } = await startWorkers()
await stop
await Promise.all([queueWorker.stop({ graceMs: 5_000 }), flowWorker.stop({ graceMs: 5_000 })])
await store.close()
await send({ t: 'stopped', at: Date.now(), handled, errors })
// Exit now: the trial is over for this child, whatever handles a driver may still keep open.
process.exit(0)
