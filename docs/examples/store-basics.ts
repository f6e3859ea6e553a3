/**
 * Using a store directly: the layer under @pgqrs/queue. Opens a SQLite file, creates the pgqrs
 * tables, enqueues two messages, leases them and archives them.
 *
 * Run from the repository root after `pnpm install && pnpm build`:
 *   pnpm exec node docs/examples/store-basics.ts      (Node 24 strips the types)
 * Type-check: pnpm exec tsc -p docs/examples
 */
import { connect } from '@pgqrs/core'

// The scheme picks the backend: sqlite: loads @pgqrs/store-sqlite (postgres://… and turso:… work alike).
const store = await connect('sqlite:///tmp/app.db')
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
