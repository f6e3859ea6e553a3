// Retries with backoff, dead letters, and replay.
// expect: attempt 1 failed: card declined
// expect: attempt 3 failed: card declined
// expect: /^dead after 3 attempts, last error: (Error: )+card declined$/
// expect: replayed message 1: attempts 0, state pending
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/rd-${process.pid}.db`,
)
await pgqrs.admin(store).install()
await store.queue('payments')
const producer = await store.producer('payments')
const msg = await producer.enqueue({ invoice: 42 }, { maxAttempts: 3 }) // default: 5

const worker = pgqrs.worker(
  store,
  'payments',
  async (m) => {
    console.log(`attempt ${m.attempts} failed: card declined`)
    throw new Error('card declined')
  },
  // retry after 100 ms, then 200 ms (the default is exponential with jitter, 1 s → 5 min)
  { backoff: pgqrs.BackoffStrategy.exponential(100, 1_000), pollIntervalMs: 50 },
)
const dead = new Promise((resolve) => worker.once('message:dead', resolve))
await worker.start()
await dead
await worker.stop()

const admin = pgqrs.admin(store)
const [letter] = await admin.deadLetters('payments') // dead messages are never delivered again
const lastError = letter?.lastError?.split('\n')[0]
console.log(`dead after ${letter?.attempts} attempts, last error: ${lastError}`)
const replayed = await admin.replay(msg.id) // same id, attempts reset, visible now
const pending = await store.messages.list('payments', { state: 'pending' })
console.log(
  `replayed message ${replayed.id}: attempts ${replayed.attempts}, ` +
    `state ${pending.some((m) => m.id === msg.id) ? 'pending' : '?'}`,
)
await store.close()
