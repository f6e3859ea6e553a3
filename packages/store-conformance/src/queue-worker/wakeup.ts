import { connect, type Store } from '@pgqrs/core'
import { worker } from '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { freshQueue, sleep, useStore, waitFor } from '../util.js'
import { deferred, patchDequeue, workerTracker } from './helpers.js'

const POLL_MS = 5_000

/** Records the time of every `messages.dequeue` call of `store` (the worker's polls). */
function recordPolls(store: Store): { polls: number[]; restore(): void } {
  const polls: number[] = []
  const restore = patchDequeue(store, (original) => (queue, options) => {
    polls.push(Date.now())
    return original(queue, options)
  })
  return { polls, restore }
}

/**
 * Wake-ups of an idle worker (pollIntervalMs 5 000): on Postgres an enqueue from another store
 * instance arrives by LISTEN/NOTIFY within 100 ms; on every backend a producer of the same store
 * wakes it in-process.
 */
export function wakeupTests(harness: StoreHarness): void {
  describe('wake-ups', () => {
    const fx = useStore(harness)
    const track = workerTracker()

    async function idleWorker(queue: string) {
      const handled = deferred<number>()
      const w = track(
        worker(store(), queue, () => void handled.resolve(Date.now()), {
          pollIntervalMs: POLL_MS,
          leaseMs: 5_000,
        }),
      )
      await w.start()
      return { w, handled: handled.promise }
    }
    const store = () => fx.store

    async function expectWokenBy(enqueue: () => Promise<unknown>, queue: string): Promise<void> {
      const rec = recordPolls(fx.store)
      try {
        const { w, handled } = await idleWorker(queue)
        await waitFor(() => rec.polls.length >= 1, { what: 'the first poll' })
        await sleep(400)
        expect(rec.polls, 'the idle worker polled before its pollIntervalMs').toHaveLength(1)
        const t0 = Date.now()
        await enqueue()
        const t1 = await Promise.race([handled, sleep(3_000).then(() => null)])
        expect(t1, 'the handler was not woken within 3 s').not.toBeNull()
        expect(t1! - t0, 'wake-up latency (enqueue call to handler start)').toBeLessThan(100)
        const [idlePoll, wakePoll] = rec.polls
        expect(wakePoll, 'no poll after the enqueue').toBeDefined()
        expect(wakePoll! - idlePoll!, 'woken by a poll timer, not by the enqueue').toBeGreaterThan(
          300,
        )
        expect(wakePoll! - idlePoll!).toBeLessThan(POLL_MS - 1_000)
        await w.stop()
      } finally {
        rec.restore()
      }
    }

    it('a producer of the same store wakes an idle worker within 100 ms', async () => {
      const q = await freshQueue(fx.store, 'wake-local')
      const producer = await fx.store.producer(q)
      await expectWokenBy(() => producer.enqueue({ n: 1 }), q)
    })

    if (harness.capabilities.notifications) {
      it('an enqueue from another store instance wakes an idle worker within 100 ms (LISTEN/NOTIFY)', async () => {
        const q = await freshQueue(fx.store, 'wake-notify')
        const { dsn, config } = harness.connection(fx.store)
        const other = await connect(dsn, config)
        try {
          const producer = await other.producer(q)
          await expectWokenBy(() => producer.enqueue({ n: 1 }), q)
        } finally {
          await other.close()
        }
      })
    }
  })
}
