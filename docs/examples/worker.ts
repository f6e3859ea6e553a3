// SPEC 4.5: a worker with every option, its context, its events, and both ways to stop it.
// expect: worker-1 handled 20 messages, 0 in flight
// expect: stopped by its AbortSignal
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/w-${process.pid}.db`,
)
await pgqrs.admin(store).install()
await store.queue('tasks')
await pgqrs
  .enqueue()
  .messages(Array.from({ length: 20 }, (_, n) => ({ n })))
  .to('tasks')
  .execute(store)

const backoff = pgqrs.BackoffStrategy.exponentialJitter(1_000, 300_000) // retry delays
const controller = new AbortController() // aborting it stops the worker, like stop()
const signal = controller.signal
let handled = 0
const allHandled = Promise.withResolvers<void>()

const worker = pgqrs.worker(
  store,
  'tasks',
  async (msg, ctx) => {
    // ctx.signal aborts on shutdown (after the grace period) or when the lease was lost
    if (ctx.signal.aborted) return
    // long jobs: the worker renews leases by itself; ctx.extendLease(ms) asks for more at once
    await ctx.extendLease(60_000)
    await ctx.heartbeat()
    if (msg.attempts > 1) console.log(`message ${msg.id}: delivery ${msg.attempts}`)
    if (++handled === 20) allHandled.resolve()
  },
  {
    name: 'worker-1',
    concurrency: 8,
    batchSize: 16,
    leaseMs: 30_000,
    backoff,
    signal,
  },
)
worker.on('message:failed', (m, error) => console.error(`message ${m.id} will be retried`, error))
worker.on('message:dead', (m) => console.error(`message ${m.id} is dead`))
worker.on('error', (error) => console.error('store error; the worker backs off and retries', error))

await worker.start()
await allHandled.promise // ... your process runs
await worker.stop({ graceMs: 10_000 })
console.log(`${worker.config.name} handled ${handled} messages, ${worker.inFlight} in flight`)

// The same worker configuration, stopped by its signal instead of stop():
const second = pgqrs.worker(store, 'tasks', async () => {}, { name: 'worker-2', signal })
second.once('stopped', () => console.log('stopped by its AbortSignal'))
await second.start()
controller.abort()
await new Promise<void>((resolve) => second.once('stopped', () => resolve()))
await store.close()
