import { connect, type Store } from '@pgqrs/core'
import { worker } from '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { planned } from '../plan.js'
import { freshQueue, useStore, waitFor } from '../util.js'
import { deferred, patchDequeue, workerTracker } from './helpers.js'

/** Far beyond any test: a poll that happens within a test was caused by a wake-up. */
const POLL_MS = 60_000

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
 * Wake-ups of an idle worker (pollIntervalMs 60 s): with notifications an enqueue from another
 * store instance wakes it by LISTEN/NOTIFY; on every backend a producer of the same store wakes it
 * in-process.
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

    /**
     * The idle worker's only poll timer is 60 s away, so a handler that runs now was woken by the
     * enqueue: the check is the order of events (one idle poll, the enqueue, the woken poll and
     * the handler), not a latency threshold (bench (c) measures the latency).
     */
    async function expectWokenBy(enqueue: () => Promise<unknown>, queue: string): Promise<void> {
      const rec = recordPolls(fx.store)
      try {
        const { w, handled } = await idleWorker(queue)
        await waitFor(() => rec.polls.length >= 1, { what: 'the first poll' })
        const before = rec.polls.length
        const enqueuedAt = Date.now()
        await enqueue()
        const startedAt = await handled
        // start() resolves once the worker idles with LISTEN up; a claim made while LISTEN was
        // still being set up is repeated after it, so one or two polls come before the enqueue.
        expect(before, 'the idle worker polled again before the enqueue').toBeLessThanOrEqual(2)
        expect(rec.polls.length, 'no poll after the enqueue').toBeGreaterThan(before)
        expect(rec.polls[before]!, 'the woken poll came after the enqueue').toBeGreaterThanOrEqual(
          enqueuedAt,
        )
        expect(startedAt).toBeGreaterThanOrEqual(rec.polls[before]!)
        await w.stop()
      } finally {
        rec.restore()
      }
    }

    it('a producer of the same store wakes an idle worker (no poll timer involved)', async () => {
      const q = await freshQueue(fx.store, 'wake-local')
      const producer = await fx.store.producer(q)
      await expectWokenBy(() => producer.enqueue({ n: 1 }), q)
    })

    if (planned(harness, 'queue-worker: wake-ups by NOTIFY from another store')) {
      it('an enqueue from another store instance wakes an idle worker (LISTEN/NOTIFY)', async () => {
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
