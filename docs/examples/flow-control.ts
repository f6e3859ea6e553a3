// Handler timeouts, results and timing, message control, custom backoff, one worker over many queues.
// expect: timed out: TimeoutError after 200 ms; attempts 1, visible again
// expect: result of report 1: {"pages":3}, attempts 1, took ≥ 0 ms: true
// expect: /^cancelled message \d+: never delivered: true$/
// expect: retry in about 1 min (first delay of the schedule)
// expect: after retryNow: attempts 2, archived
// expect: handled in order: emails:urgent, emails:e1, reports:r1
// expect: /^metrics of reports: handled 3, dead 0, p50 \d+ ms, p95 \d+ ms$/
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/flow-${process.pid}.db`,
)
const admin = pgqrs.admin(store)
await admin.install()
await store.queue('reports')
await store.queue('emails')

// 1. Handler timeouts. A message's timeoutMs wins over the worker's (default: no timeout).
// Past it the worker aborts ctx.signal with a TimeoutError, stops renewing the lease, frees
// the slot even if the handler ignores the signal, and fails the delivery (backoff, retry,
// dead letter). The abandoned handler's own late settle is refused: its lease is gone.
const stuck = await (await store.producer('reports')).enqueue({ id: 0 }, { timeoutMs: 200 })
const hangs = pgqrs.worker(store, 'reports', () => new Promise(() => {}), {
  backoff: [60_000], // the retry waits a minute: see retryNow below
  pollIntervalMs: 50,
})
const timedOut = new Promise<Error>((resolve) =>
  hangs.once('message:failed', (_m, e) => resolve(e)),
)
await hangs.start()
const error = await timedOut
await hangs.stop({ graceMs: 0 })
const after = await admin.message(stuck.id)
console.log(
  `timed out: ${error.name} after ${(error as pgqrs.TimeoutError).timeoutMs} ms; ` +
    `attempts ${after.attempts}, ${after.lease === null ? 'visible again' : 'still leased'}`,
)
await admin.cancelMessage(stuck.id) // not needed any more

// 2. Results and timing: what a handler returns is stored with the archived message, with
// when the delivery started and finished (database clock) and the attempt count.
const [report] = await (await store.producer('reports')).enqueueMany([{ id: 1 }, { id: 2 }])
const reports = pgqrs.worker(store, 'reports', async () => ({ pages: 3 }), { pollIntervalMs: 50 })
let done = 0
reports.on('message:done', () => done++)
await reports.start()
while (done < 2) await new Promise((r) => setTimeout(r, 20))
await reports.stop()
const settled = await admin.message(report!.id)
const took = settled.finishedAt!.getTime() - settled.startedAt!.getTime()
console.log(
  `result of report 1: ${JSON.stringify(settled.result)}, attempts ${settled.attempts}, ` +
    `took ≥ 0 ms: ${took >= 0}`,
)

// 3. Message control: cancel a pending or delayed message; run a delayed one now.
const emails = await store.producer('emails')
const later = await emails.enqueue({ to: 'a@b.c' }, { delayMs: 3_600_000 })
const cancelled = await admin.cancelMessage(later.id)
console.log(
  `cancelled message ${cancelled.id}: never delivered: ${(await store.messages.get(later.id)) === null}`,
)

// 4. Custom backoff: a list of delays (pqrun's 1 m, 5 m, 30 m, 2 h, 6 h; then the last again)
// or a function (attempt, error) => ms. retryNow runs a delayed or backing-off message now.
const schedule = [60_000, 300_000, 1_800_000, 7_200_000, 21_600_000]
const flaky = await emails.enqueue({ to: 'flaky' })
let tries = 0
const retrying = pgqrs.worker(
  store,
  'emails',
  async () => {
    if (++tries === 1) throw new Error('smtp timeout')
  },
  { backoff: schedule, pollIntervalMs: 50 },
)
const failedOnce = new Promise((resolve) => retrying.once('message:failed', resolve))
const handled = new Promise((resolve) => retrying.once('message:done', resolve))
await retrying.start()
await failedOnce
const waits = (await admin.message(flaky.id)).visibleAt.getTime() - Date.now()
console.log(`retry in about ${Math.round(waits / 60_000)} min (first delay of the schedule)`)
await admin.retryNow(flaky.id)
await handled
await retrying.stop()
console.log(`after retryNow: attempts ${(await admin.message(flaky.id)).attempts}, archived`)
// a function instead: pgqrs.worker(store, 'emails', handler, { backoff: byError })
const byError: pgqrs.BackoffFunction = (attempt, err) =>
  err.message.includes('rate limited') ? 60_000 : 1_000 * attempt
void byError

// 5. One worker over several queues: a handler per queue, claimed across them in one statement
// by priority, then age.
await emails.enqueue({ to: 'e1' })
await (await store.producer('reports')).enqueue({ id: 'r1' })
await emails.enqueue({ to: 'urgent' }, { priority: 10 })
const order: string[] = []
const both = pgqrs.worker(
  store,
  {
    emails: async (m: pgqrs.QueueMessage<{ to: string }>) => {
      order.push(`emails:${m.payload.to}`)
    },
    reports: async (m: pgqrs.QueueMessage<{ id: string }>) => {
      order.push(`reports:${m.payload.id}`)
    },
  },
  { concurrency: 1, batchSize: 1, pollIntervalMs: 50 },
)
await both.start()
while (order.length < 3) await new Promise((r) => setTimeout(r, 20))
await both.stop()
console.log(`handled in order: ${order.join(', ')}`)

// 6. Handler metrics over a window: handled, dead and failed counts, p50/p95 handling times.
const m = await admin.handlerMetrics('reports', { windowMs: 60_000 })
console.log(
  `metrics of reports: handled ${m.handled}, dead ${m.dead}, p50 ${m.p50Ms} ms, p95 ${m.p95Ms} ms`,
)
await store.close()
