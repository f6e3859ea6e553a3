// Using a store directly: the layer under the queue. Creates the pgqrs tables, enqueues two
// messages, leases them and archives them.
//   pnpm exec node docs/examples/store-basics.ts          (Node 24 strips the types)
// expect: archived: [ true, true ]
import { tmpdir } from 'node:os'
import { connect } from '@pgqrs/core'

// The scheme picks the backend: sqlite: loads @pgqrs/store-sqlite (postgres://… and turso:… alike).
const store = await connect(process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/store-${process.pid}.db`)
try {
  await store.migrate() // creates or upgrades the pgqrs tables; idempotent
  await store.queues.ensure('tasks') // get-or-create

  await store.messages.enqueue('tasks', [
    { payload: { to: 'ada@example.com', template: 'welcome' } },
    { payload: { to: 'alan@example.com', template: 'welcome' }, priority: 5 },
  ])

  // Lease up to 10 visible messages for 30 s; a crashed consumer's lease simply runs out.
  const msgs = await store.messages.dequeue('tasks', { batchSize: 10, leaseMs: 30_000 })
  for (const m of msgs) {
    console.log(`message ${m.id} (attempt ${m.attempts} of ${m.maxAttempts}):`, m.payload)
  }

  // Done: archive them. Each result is false if that lease was lost (expired and taken over).
  const archived = await store.messages.archive(msgs)
  console.log('archived:', archived)
} finally {
  await store.close()
}
