// Issue 15: timeouts. A step's timeoutMs aborts its signal and fails it with a TimeoutError (the
// retry policy runs it again); a workflow's timeoutMs ends an overdue run ERROR, even while it waits.
// expect: step: fetched on attempt 2 (attempt 1 aborted: TimeoutError)
// expect: overdue run: ERROR TimeoutError
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/wt-${process.pid}.db`,
)
await pgqrs.admin(store).install()
let attempts = 0
let firstAbort = ''

const fetchReport = pgqrs.defineWorkflow({
  name: 'fetch_report',
  retry: { maxAttempts: 3, backoff: pgqrs.BackoffStrategy.fixed(50) },
  async run(ctx) {
    return ctx.step(
      'fetch',
      async (_tx, { signal }) => {
        attempts++
        // a slow first attempt: pass the signal on (fetch(url, { signal })) and it is cut short
        if (attempts === 1)
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
        if (signal.aborted) firstAbort = (signal.reason as Error).name
        return `fetched on attempt ${attempts}`
      },
      { timeoutMs: 200 },
    )
  },
})

const approval = pgqrs.defineWorkflow({
  name: 'approval_with_deadline',
  timeoutMs: 300, // the whole run, waits included; start(…, { deadline }) sets one run's instant
  async run(ctx) {
    return ctx.waitForEvent('approve')
  },
})

const runner = pgqrs.workflowWorker(store, [fetchReport, approval], { pollIntervalMs: 50 })
await runner.start()
const report = await fetchReport.start(store, {})
console.log(`step: ${await report.result()} (attempt 1 aborted: ${firstAbort})`)
const overdue = await approval.start(store, {})
await overdue.result().catch(() => {})
const run = await overdue.status()
console.log(`overdue run: ${run.status} ${(run.error as { name: string }).name}`)
await runner.stop()
await store.close()
