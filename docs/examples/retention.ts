// Retention: archived messages keep their row (audit, replay) until you purge them.
// expect: purged 0 message(s) archived more than 7 days ago
// expect: purged 3 message(s) archived more than 0 ms ago; active left: 1
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/rt-${process.pid}.db`,
)
await pgqrs.admin(store).install()
await store.queue('reports')
await pgqrs
  .enqueue()
  .messages([{ n: 1 }, { n: 2 }, { n: 3 }])
  .to('reports')
  .execute(store)
await pgqrs
  .dequeue()
  .from('reports')
  .batch(3)
  .handleBatch(async () => {})
  .execute(store)
await pgqrs.enqueue().message({ n: 4 }).to('reports').execute(store) // still queued

// In production: once an hour, delete what was archived more than 7 days ago. Retention never
// deletes a message that is still queued; dead letters stay unless `includeDead: true`.
const admin = pgqrs.admin(store)
const WEEK_MS = 7 * 24 * 60 * 60 * 1000
const purgeOld = () =>
  admin.purgeArchived({ olderThanMs: WEEK_MS }).catch((e) => console.error('retention failed', e))
const retention = setInterval(purgeOld, 60 * 60 * 1000)
retention.unref() // never keeps the process alive

const none = await admin.purgeArchived({ olderThanMs: WEEK_MS })
console.log(`purged ${none} message(s) archived more than 7 days ago`)
const all = await admin.purgeArchived({ olderThanMs: 0, queue: 'reports' })
const active = await store.messages.list('reports', { state: 'active' })
console.log(`purged ${all} message(s) archived more than 0 ms ago; active left: ${active.length}`)
clearInterval(retention)
await store.close()
