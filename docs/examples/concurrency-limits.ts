// Concurrency limits enforced by the database: at most N messages of a queue at once, and at most
// one at a time per customer, across every worker on every host.
// expect: limits of invoices: {"maxConcurrency":3,"concurrencyPerKey":1,"rateLimit":null}
// expect: handled 12 invoices: at most 3 at once: true, at most 1 per customer: true
// expect: /^webhooks: 10 sent in \d+ ms, claims 50 ms apart: true$/
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/limits-${process.pid}.db`,
)
const admin = pgqrs.admin(store)
await admin.install()
await store.queue('invoices')

// Set on a queue (also: admin.createQueue(name, limits), `pgqrs queue create|limits NAME
// --max-concurrency N --concurrency-per-key N`); null removes a limit.
const limits = await admin.setQueueLimits('invoices', { maxConcurrency: 3, concurrencyPerKey: 1 })
console.log(`limits of invoices: ${JSON.stringify(limits)}`)

// The key goes on each message: here, the customer.
const producer = await store.producer<{ customer: string }>('invoices')
for (let i = 0; i < 12; i++) {
  const customer = `customer-${i % 4}`
  await producer.enqueue({ customer }, { concurrencyKey: customer })
}

// Two workers with 8 slots each: the claim never leases more than the limits allow.
let running = 0
let most = 0
const perCustomer = new Map<string, number>()
let mostPerCustomer = 0
let done = 0
const handle = async (msg: pgqrs.QueueMessage<{ customer: string }>) => {
  const c = msg.payload.customer
  running++
  perCustomer.set(c, (perCustomer.get(c) ?? 0) + 1)
  most = Math.max(most, running)
  mostPerCustomer = Math.max(mostPerCustomer, perCustomer.get(c)!)
  await new Promise((r) => setTimeout(r, 20))
  perCustomer.set(c, perCustomer.get(c)! - 1)
  running--
  done++
}
const workers = [1, 2].map(() =>
  pgqrs.worker(store, 'invoices', handle, { concurrency: 8, pollIntervalMs: 20 }),
)
for (const w of workers) await w.start()
while (done < 12) await new Promise((r) => setTimeout(r, 20))
for (const w of workers) await w.stop()
console.log(
  `handled ${done} invoices: at most 3 at once: ${most <= 3}, at most 1 per customer: ${mostPerCustomer <= 1}`,
)

// Rate limits: at most 20 claims per second, evenly spaced (one every 50 ms, no burst); a worker
// with nothing to claim sleeps until the budget returns.
await store.queue('webhooks')
await admin.setQueueLimits('webhooks', { rateLimit: { max: 20, perMs: 1_000 } })
const hooksSent = await (await store.producer('webhooks')).enqueueMany(
  Array.from({ length: 10 }, (_, i) => ({ i })),
)
let sent = 0
const hooks = pgqrs.worker(store, 'webhooks', async () => void sent++, { concurrency: 4 })
const t0 = Date.now()
await hooks.start()
while (sent < 10) await new Promise((r) => setTimeout(r, 10))
await hooks.stop()
// the claim times, on the store's clock (the first delivery of each message)
const claimed: number[] = []
for (const m of hooksSent) claimed.push((await admin.message(m.id)).dequeuedAt!.getTime())
claimed.sort((a, b) => a - b)
const spaced = claimed.slice(1).every((t, i) => t - claimed[i]! >= 49) // ms rounding
console.log(`webhooks: ${sent} sent in ${Date.now() - t0} ms, claims 50 ms apart: ${spaced}`)
await store.close()
