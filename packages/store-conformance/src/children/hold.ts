/** Child: leases one message with `leaseMs`, reports it and then holds it until it is killed. */
import { runChild, send } from './child-runtime.js'

await runChild(async (store, args) => {
  const [m] = await store.messages.dequeue(args.queue ?? '', {
    batchSize: 1,
    leaseMs: args.leaseMs ?? 500,
  })
  if (!m) throw new Error(`hold: nothing to lease in ${args.queue}`)
  await send({
    type: 'leased',
    id: m.id,
    lease: m.lease,
    attempts: m.attempts,
    visibleAtMs: m.visibleAt.getTime(),
  })
  // Hold the lease until the parent SIGKILLs this process.
  await new Promise(() => setInterval(() => {}, 60_000))
})
