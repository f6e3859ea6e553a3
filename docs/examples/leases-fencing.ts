// Leases and fencing tokens: a consumer whose lease ran out cannot settle the message any more,
// because the new holder's delivery carries a new lease token.
// expect: same message: true, new token: true, attempts: 2
// expect: stale holder archives: false
// expect: stale holder archiveOrThrow: LeaseLostError
// expect: current holder archives: true
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/lf-${process.pid}.db`,
)
await pgqrs.admin(store).install()
await store.queue('jobs')
await (await store.producer('jobs')).enqueue({ report: 'daily' })

const a = await pgqrs.consumer('consumer-a', 'jobs').create(store)
const b = await pgqrs.consumer('consumer-b', 'jobs').create(store)
const [first] = await a.dequeue({ leaseMs: 300 }) // a holds the message for 300 ms ...
await new Promise((resolve) => setTimeout(resolve, 600)) // ... then stalls (GC pause, partition)
const [second] = await b.dequeue({ leaseMs: 30_000 }) // the lease ran out: b gets the message
console.log(
  `same message: ${first!.id === second!.id}, new token: ${first!.lease !== second!.lease}, ` +
    `attempts: ${second!.attempts}`,
)

console.log('stale holder archives:', await a.archive(first!)) // refused; nothing changes
try {
  await a.archiveOrThrow(first!)
} catch (e) {
  console.log('stale holder archiveOrThrow:', (e as Error).name)
}
console.log('current holder archives:', await b.archive(second!))
await store.close()
