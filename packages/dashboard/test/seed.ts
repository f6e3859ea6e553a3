import type { Store } from '@pgqrs/core'
import { type Worker, worker } from '@pgqrs/queue'
import {
  defineWorkflow,
  NonRetryableError,
  type WorkflowWorker,
  workflowWorker,
} from '@pgqrs/workflow'
import { until } from './harness.js'

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Text that would run as script if a page did not escape it. */
export const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'

/** What {@link seed} wrote, and the workers it left running. */
export interface Seeded {
  /** In `emails` (worked by `mailer-1`): a dead message whose handler failed with a hostile error. */
  readonly deadId: number
  /** In `emails`: a message `mailer-1` handled, archived with its handler's result. */
  readonly handledId: number
  /** In `reports` (nobody works it): one pending, one delayed, one dead, one archived message. */
  readonly reports: { pending: number; delayed: number; dead: number; archived: number }
  /**
   * Runs of `nightly-report`: finished, failed and sleeping for an hour (with a pending event
   * `approve`); finished and sleeping ones published the value `progress`.
   */
  readonly runs: { success: number; failed: number; sleeping: number }
  /**
   * A finished run of `assemble-report` and the three `render-section` runs it started with
   * `ctx.startChild` and awaited (all SUCCESS), in the order it started them.
   */
  readonly family: { parent: number; children: readonly number[] }
  /** While true, `mailer-1` fails messages whose payload has `fail: true`. */
  readonly control: { failing: boolean }
  /** `mailer-1`, the queue worker of `emails`. */
  readonly mailer: Worker
  /** The runner of `nightly-report`. */
  readonly runner: WorkflowWorker
  /** The runner of `assemble-report` and `render-section` (`assembly-runner:<queue>`). */
  readonly assembler: WorkflowWorker
  /** Stops the workers (call before closing the store). */
  stop(): Promise<void>
}

/** Enqueues one message with one attempt and fails it at once: dead, with `error` kept. */
async function deadMessage(
  store: Store,
  queue: string,
  payload: unknown,
  error: string,
): Promise<number> {
  const [sent] = await store.messages.enqueue(queue, [{ payload, maxAttempts: 1 }])
  const [leased] = await store.messages.dequeue(queue, { batchSize: 1, leaseMs: 60_000 })
  if (leased?.id !== sent!.id) throw new Error('seed: another message was leased')
  if ((await store.messages.fail(leased, error, 0)) !== 'dead') throw new Error('seed: not dead')
  return sent!.id
}

/** The messages of `reports`, a queue nobody works: one in each state the pages show. */
export async function seedReports(store: Store): Promise<Seeded['reports']> {
  await store.queue('reports')
  const dead = await deadMessage(
    store,
    'reports',
    { report: 'q3', note: HOSTILE },
    `renderer crashed: ${HOSTILE}`,
  )
  const [archivedMsg] = await store.messages.enqueue('reports', [{ payload: { report: 'q2' } }])
  const [leased] = await store.messages.dequeue('reports', { batchSize: 1, leaseMs: 60_000 })
  if (leased?.id !== archivedMsg!.id) throw new Error('seed: another message was leased')
  await store.messages.archive([leased])
  const [pending, delayed] = await store.messages.enqueue('reports', [
    { payload: { report: 'q4', owner: HOSTILE, rows: [1, 2, 3] }, priority: 5 },
    { payload: { report: 'q1-rerun' }, delayMs: 3_600_000 },
  ])
  return { pending: pending!.id, delayed: delayed!.id, dead, archived: archivedMsg!.id }
}

/** The workflow of the tests: fetch, then render (fails on `fail`), a sleep (on `sleep`), send. */
export const nightlyReport = defineWorkflow({
  name: 'nightly-report',
  retry: { maxAttempts: 1 },
  async run(ctx, input: { day: string; fail?: boolean; sleep?: boolean }) {
    // the steps take a little time, so that the timeline has something to draw
    const rows = await ctx.step('fetch', async () => {
      await pause(60)
      return { rows: 42, day: input.day }
    })
    const rendered = await ctx.step('render', async () => {
      await pause(40)
      if (input.fail) throw new NonRetryableError(`template missing: ${HOSTILE}`)
      return { pages: Math.ceil(rows.rows / 10) }
    })
    await ctx.setEvent('progress', { rendered: rendered.pages, note: HOSTILE })
    if (input.sleep) await ctx.sleep('cool_down', 3_600_000)
    return ctx.step('send', async () => {
      await pause(25)
      return { sent: true, to: 'ops@example.com' }
    })
  },
})

/** A child workflow: renders one section of a report. */
export const renderSection = defineWorkflow({
  name: 'render-section',
  retry: { maxAttempts: 1 },
  async run(ctx, input: { section: string; note?: string }) {
    return ctx.step('render', async () => {
      await pause(30)
      return { section: input.section, pages: input.section.length }
    })
  },
})

/** The sections `assemble-report` renders, one child run each, in this order. */
export const SECTIONS = ['summary', 'revenue', 'churn'] as const

/** A parent workflow: starts one `render-section` child per section and awaits them all. */
export const assembleReport = defineWorkflow({
  name: 'assemble-report',
  retry: { maxAttempts: 1 },
  async run(ctx, input: { day: string }) {
    const children = await Promise.all(
      SECTIONS.map((section, i) =>
        ctx.startChild(renderSection, { section, ...(i === 0 ? { note: HOSTILE } : {}) }),
      ),
    )
    const parts = await Promise.all(children.map((child) => child.result()))
    await ctx.setEvent('progress', { sections: parts.length })
    return { day: input.day, pages: parts.reduce((n, p) => n + p.pages, 0) }
  },
})

/**
 * Seeds a store with queues, messages in every state, workers and workflow runs in several
 * statuses, and leaves `mailer-1` and the workflow runner running (stop them with `stop()`).
 */
export async function seed(store: Store, options: { emails?: number } = {}): Promise<Seeded> {
  const reports = await seedReports(store)
  await store.queue('emails')
  const deadId = await deadMessage(
    store,
    'emails',
    { to: 'bounce@example.com', fail: true },
    `smtp 554: ${HOSTILE}`,
  )
  const control = { failing: true }
  const mailer = worker<{ fail?: boolean }>(
    store,
    'emails',
    async (msg) => {
      if (msg.payload.fail && control.failing) throw new Error('smtp 554: mailbox unavailable')
      return { accepted: true, relay: 'mx1.example.com' }
    },
    { name: 'mailer-1', pollIntervalMs: 100, concurrency: 2 },
  )
  await mailer.start()
  const emails = options.emails ?? 12
  const producer = await store.producer('emails')
  const [handled] = await producer.enqueueMany(
    Array.from({ length: emails }, (_, i) => ({ to: `user${i}@example.com` })),
  )
  const runner = workflowWorker(store, [nightlyReport], {
    name: 'report-runner',
    pollIntervalMs: 100,
  })
  await runner.start()
  const assembler = workflowWorker(store, [assembleReport, renderSection], {
    name: 'assembly-runner',
    pollIntervalMs: 100,
  })
  await assembler.start()
  const parent = await assembleReport.start(store, { day: '2026-12-03' })
  const success = await nightlyReport.start(store, { day: '2026-11-30' })
  const failed = await nightlyReport.start(store, { day: '2026-12-01', fail: true })
  const sleeping = await nightlyReport.start(store, { day: '2026-12-02', sleep: true })
  const status = async (id: number) => (await store.runs.get(id))?.status
  await until(
    'the seeded runs to settle',
    async () =>
      (await status(success.id)) === 'SUCCESS' &&
      (await status(failed.id)) === 'ERROR' &&
      (await status(sleeping.id)) === 'SLEEPING',
    20_000,
  )
  await until(
    'the parent run to collect its children',
    async () => (await status(parent.id)) === 'SUCCESS',
    20_000,
  )
  const children = (await store.runs.list({ parentId: parent.id, limit: 10 }))
    .map((r) => r.id)
    .sort((a, b) => a - b)
  if (children.length !== SECTIONS.length) throw new Error('seed: not every child was started')
  // an event the sleeping run has not taken yet (it waits for none): shown as pending
  await store.events.send(sleeping.id, 'approve', { by: 'ops@example.com', note: HOSTILE })
  await until(
    'mailer-1 to handle the emails',
    async () => {
      const m = await store.queues.metrics('emails')
      return m !== null && m.archived >= emails
    },
    20_000,
  )
  return {
    deadId,
    handledId: handled!.id,
    reports,
    runs: { success: success.id, failed: failed.id, sleeping: sleeping.id },
    family: { parent: parent.id, children },
    control,
    mailer,
    runner,
    assembler,
    async stop() {
      await Promise.all([
        mailer.stop({ graceMs: 1_000 }),
        runner.stop({ graceMs: 1_000 }),
        assembler.stop({ graceMs: 1_000 }),
      ])
    },
  }
}

/** What {@link seedStatic} wrote. */
export interface StaticSeed {
  readonly reports: Seeded['reports']
  /** A QUEUED run of `nightly-report` (no runner). */
  readonly run: number
  /** A registered worker, `idle-1`, status ready, with a hostile host name. */
  readonly worker: number
}

/** Data without running workers: `reports`, one QUEUED run and one registered worker. */
export async function seedStatic(store: Store): Promise<StaticSeed> {
  const reports = await seedReports(store)
  await nightlyReport.ensure(store)
  const run = await nightlyReport.start(store, { day: '2026-12-03' })
  const w = await store.workers.register({
    name: 'idle-1',
    queue: 'reports',
    hostname: 'box',
    pid: 7,
  })
  return { reports, run: run.id, worker: w.id }
}
