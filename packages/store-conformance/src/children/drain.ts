/**
 * Child: drains a queue (dequeue `batchSize` with `leaseMs`, archive the batch) until it comes back
 * empty three times in a row, then reports every delivery and its archive result.
 */
import type { DrainRecord } from './protocol.js'
import { runChild, send } from './child-runtime.js'

await runChild(async (store, args) => {
  const queue = args.queue ?? ''
  const batchSize = args.batchSize ?? 10
  const leaseMs = args.leaseMs ?? 30_000
  const records: DrainRecord[] = []
  let empty = 0
  while (empty < 3) {
    const calledAt = Date.now()
    const batch = await store.messages.dequeue(queue, { batchSize, leaseMs })
    if (batch.length === 0) {
      empty += 1
      await new Promise((resolve) => setTimeout(resolve, 20))
      continue
    }
    empty = 0
    const results = await store.messages.archive(batch)
    batch.forEach((m, i) => {
      records.push([
        m.id,
        m.lease,
        calledAt,
        m.visibleAt.getTime() - leaseMs,
        m.visibleAt.getTime(),
        results[i] === true,
      ])
    })
  }
  await send({ type: 'drained', records })
})
