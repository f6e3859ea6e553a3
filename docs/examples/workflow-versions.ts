// Issue 15: versions and patching. A worker that registers only version 2 leaves version 1 runs
// alone; a worker with both finishes them. ctx.patched(id) changes code under running runs.
// expect: v2-only worker: new run SUCCESS, old run QUEUED
// expect: both versions: old run SUCCESS (version 1)
// expect: patched: old run false, new run true
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/wv-${process.pid}.db`,
)
await pgqrs.admin(store).install()

const signupV1 = pgqrs.defineWorkflow({
  name: 'signup',
  async run(ctx, input: { email: string }) {
    return ctx.step('send_welcome', () => `welcome ${input.email}`)
  },
})
const signupV2 = pgqrs.defineWorkflow({
  name: 'signup',
  version: 2, // the step sequence changed: a new version, its runs on the queue signup:v2
  async run(ctx, input: { email: string }) {
    await ctx.step('verify_email', () => true)
    return ctx.step('send_welcome', () => `welcome ${input.email}`)
  },
})

const old = await signupV1.start(store, { email: 'ada@example.invalid' })
const young = await signupV2.start(store, { email: 'bob@example.invalid' })
const onlyV2 = await pgqrs.workflowWorker(store, [signupV2], { pollIntervalMs: 50 }).start()
await young.result()
console.log(
  `v2-only worker: new run ${(await young.status()).status}, old run ${(await old.status()).status}`,
)
await onlyV2.stop()
const both = await pgqrs.workflowWorker(store, [signupV1, signupV2], { pollIntervalMs: 50 }).start()
await old.result()
const done = await old.status()
console.log(`both versions: old run ${done.status} (version ${done.version})`)

// Patching: the same code serves runs that started before the change and runs that start after.
let deployed = false
const seen: Record<string, boolean> = {}
const billing = pgqrs.defineWorkflow({
  name: 'billing',
  async run(ctx, input: { who: string }) {
    await ctx.step('charge', () => 'charged')
    if (deployed) {
      // true for runs that reach this point with the new code, false for older runs replaying
      seen[input.who] = await ctx.patched('send-receipt')
      if (seen[input.who]) await ctx.step('send_receipt', () => 'sent')
    }
    await ctx.sleep('settle', 200)
    return ctx.step('close', () => 'closed')
  },
})
const runner = await pgqrs.workflowWorker(store, [billing], { pollIntervalMs: 50 }).start()
const before = await billing.start(store, { who: 'old' })
while ((await before.status()).status !== 'SLEEPING') await new Promise((r) => setTimeout(r, 20))
deployed = true // "deploy" the patch while the old run sleeps past the patched point
const after = await billing.start(store, { who: 'new' })
await Promise.all([before.result(), after.result()])
console.log(`patched: old run ${seen.old}, new run ${seen.new}`)
await Promise.all([both.stop(), runner.stop()])
await store.close()
