// Issue 15: events into a run (waitForEvent, sendEvent, handle.send) and values out of it
// (setEvent, getEvent). The waiting run holds no worker slot: another run finishes meanwhile.
// expect: approval URL: https://example.invalid/approve/
// expect: while it waits: SLEEPING, quick run done: quick
// expect: second send with the same key stored nothing: true
// expect: output: approve by ada, reminder timed out
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/we-${process.pid}.db`,
)
await pgqrs.admin(store).install()

const approval = pgqrs.defineWorkflow({
  name: 'expense_approval',
  async run(ctx, input: { amount: number; quick?: boolean }) {
    if (input.quick) return 'quick'
    await ctx.setEvent('approval_url', `https://example.invalid/approve/${ctx.runId}`)
    // suspends the run: its message is released until an event arrives (or the timeout passes)
    const answer = await ctx.waitForEvent<{ by: string }>('approve', { timeoutMs: 86_400_000 })
    if (answer === undefined) return { decision: 'expired' }
    // a timeout is not an error: waitForEvent returns undefined
    const reminder = await ctx.waitForEvent('reminder', { timeoutMs: 200 })
    return { decision: 'approve', by: answer.by, reminder: reminder ?? 'timed out' }
  },
})

const runner = pgqrs.workflowWorker(store, [approval], { concurrency: 1, pollIntervalMs: 100 })
await runner.start()
const handle = await approval.start(store, { amount: 120 })

// any process can read what the run published
console.log(`approval URL: ${await handle.getEvent('approval_url', { timeoutMs: 10_000 })}`)
while ((await handle.status()).status !== 'SLEEPING') await new Promise((r) => setTimeout(r, 20))
// concurrency 1, and the waiting run holds no slot: a second run finishes now
const quick = await approval.start(store, { amount: 5, quick: true })
const quickOut = await quick.result({ timeoutMs: 10_000 })
console.log(`while it waits: ${(await handle.status()).status}, quick run done: ${quickOut}`)

// from an HTTP handler, another process, or `pgqrs runs send-event ID approve '{"by":"ada"}'`
await pgqrs.sendEvent(store, handle.id, 'approve', { by: 'ada' }, { idempotencyKey: 'mail-7' })
const again = await handle.send('approve', { by: 'ada' }, { idempotencyKey: 'mail-7' })
console.log(`second send with the same key stored nothing: ${!again.created}`)

const out = await handle.result({ timeoutMs: 10_000 })
if (typeof out === 'object')
  console.log(`output: ${out.decision} by ${out.by}, reminder ${out.reminder}`)
await runner.stop()
await store.close()
