// SPEC 4.1 as written: install, both API styles (objects as the Python bindings, builders as the
// Rust crate), named producers and consumers, typed payloads.
// expect: object style: enqueued message 1, archived 1 message(s)
// expect: builder style: ids [2], delayed [3,4]
// expect: handled {"task":"x"}
// expect: batch of 2: y, z
// expect: named: producer api-1, consumer worker-1:8080
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/q-${process.pid}.db`,
)

await pgqrs.admin(store).install() // idempotent, safe to run from many processes at once
await store.queue('tasks') // ensure: create if missing, return the QueueRecord

// object style (as the Python bindings)
const producer = await store.producer('tasks') // or pgqrs.producer('api-1', 'tasks').create(store)
const msg = await producer.enqueue({ task: 'send_email', to: 'a@b.c' })
const consumer = await store.consumer('tasks') // or pgqrs.consumer('worker-1', 'tasks').create(store)
const messages = await consumer.dequeue({ batchSize: 10 })
for (const m of messages) await consumer.archive(m)
console.log(`object style: enqueued message ${msg.id}, archived ${messages.length} message(s)`)

// builder style (as the Rust crate)
const ids = await pgqrs.enqueue().message({ task: 'x' }).to('tasks').execute(store)
const more = await pgqrs
  .enqueue()
  .messages([{ n: 1 }, { n: 2 }])
  .to('tasks')
  .delay(5_000)
  .execute(store)
console.log(`builder style: ids ${JSON.stringify(ids)}, delayed ${JSON.stringify(more)}`)
await pgqrs
  .dequeue()
  .from('tasks')
  .handle(async (m) => {
    console.log('handled', JSON.stringify(m.payload))
  })
  .execute(store)
await producer.enqueueMany([{ task: 'y' }, { task: 'z' }])
await pgqrs
  .dequeue()
  .from('tasks')
  .batch(10)
  .handleBatch(async (ms) => {
    // the two delayed messages are not visible for 5 s: only y and z come
    console.log(
      `batch of ${ms.length}: ${ms.map((m) => (m.payload as { task: string }).task).join(', ')}`,
    )
  })
  .execute(store)

// named producers and consumers; the seed's (host, port, queue) form names the worker host:port
const named = await pgqrs.producer<{ task: string }>('api-1', 'tasks').create(store)
const seedStyle = await pgqrs.consumer('worker-1', 8080, 'tasks').create(store)
const workers = await pgqrs.admin(store).workers({ queue: 'tasks' })
const name = (id: number | null) => workers.find((w) => w.id === id)?.name
console.log(`named: producer ${name(named.workerId)}, consumer ${name(seedStyle.workerId)}`)
await store.close()
