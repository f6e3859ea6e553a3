// The README's queue example: enqueue two messages, process them with a worker.
// expect: sent welcome mail to ada@example.com
// expect: sent welcome mail to alan@example.com
// expect: processed 2 messages
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

// A SQLite file (no server); set PGQRS_DSN=postgres://… to run the same code on Postgres.
const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/qs-${process.pid}.db`,
)
await pgqrs.admin(store).install() // creates the pgqrs tables; idempotent
await store.queue('emails') // get-or-create

const producer = await store.producer<{ to: string }>('emails')
await producer.enqueueMany([{ to: 'ada@example.com' }, { to: 'alan@example.com' }])

// Success archives the message; a throw retries it with backoff, then dead-letters it.
const worker = pgqrs.worker<{ to: string }>(store, 'emails', async (msg) => {
  console.log(`sent welcome mail to ${msg.payload.to}`)
})
let done = 0
const finished = new Promise((resolve) =>
  worker.on('message:done', () => ++done === 2 && resolve(done)),
)
await worker.start()
console.log(`processed ${await finished} messages`)
await worker.stop({ graceMs: 5_000 }) // stops leasing, lets running handlers finish
await store.close()
