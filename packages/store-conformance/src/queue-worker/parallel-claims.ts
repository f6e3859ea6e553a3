import type { Store } from '@pgqrs/core'
import { type Worker, worker } from '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { freshQueue, sleep, useStore, waitFor } from '../util.js'
import { deferred, workerTracker } from './helpers.js'

type Payload = { n: number }

async function enqueueN(store: Store, queue: string, count: number): Promise<number[]> {
  const producer = await store.producer<Payload>(queue)
  const batch = Array.from({ length: count }, (_, n) => ({ n }))
  return (await producer.enqueueMany(batch)).map((m) => m.id)
}

/** Messages of `queue` leased by the worker `w` right now. */
async function leasedBy(store: Store, queue: string, w: Worker<any>): Promise<number[]> {
  const leased = await store.messages.list(queue, { state: 'leased', limit: 1000 })
  return leased
    .filter((m) => m.consumerId === w.record?.id)
    .map((m) => m.id)
    .sort((a, b) => a - b)
}

/** What {@link watchClaims} saw. */
interface ClaimLog {
  /** Most claims in flight at once. */
  maxClaims: number
  /** Most messages asked for by claims in flight, plus handlers running, at any claim's start. */
  maxReserved: number
  /** Handlers running now (the test's handler keeps it). */
  running: number
  restore(): void
}

/**
 * Wraps the store's claim statements (`dequeue` and `settleAndDequeue`) to count the claims in
 * flight and the messages they ask for. Each claim waits 20 ms before it runs, so claims that a
 * worker sends together overlap in time whatever the store's speed.
 */
function watchClaims(store: Store): ClaimLog {
  const repo = store.messages as {
    dequeue: Store['messages']['dequeue']
    settleAndDequeue?: Store['messages']['settleAndDequeue']
  }
  const original = { dequeue: repo.dequeue, settleAndDequeue: repo.settleAndDequeue }
  const log: ClaimLog = { maxClaims: 0, maxReserved: 0, running: 0, restore: () => {} }
  let claims = 0
  let asked = 0
  async function track<R>(batchSize: number, run: () => Promise<R>): Promise<R> {
    claims++
    asked += batchSize
    log.maxClaims = Math.max(log.maxClaims, claims)
    log.maxReserved = Math.max(log.maxReserved, asked + log.running)
    try {
      await sleep(20)
      return await run()
    } finally {
      claims--
      asked -= batchSize
    }
  }
  const dequeue = original.dequeue.bind(store.messages)
  repo.dequeue = (queue, options) => track(options.batchSize, () => dequeue(queue, options))
  const sad = original.settleAndDequeue?.bind(store.messages)
  if (sad) {
    repo.settleAndDequeue = (refs, queue, options) =>
      track(options.batchSize, () => sad(refs, queue, options))
  }
  log.restore = () => {
    repo.dequeue = original.dequeue
    if (original.settleAndDequeue) repo.settleAndDequeue = original.settleAndDequeue
  }
  return log
}

/**
 * Parallel claims and prefetch: a worker whose free slots exceed its batch keeps several claims in
 * flight, never asking for more than its free slots (plus `prefetch`); prefetched messages wait
 * with renewed leases and go back (released) on stop().
 */
export function parallelClaimTests(harness: StoreHarness): void {
  describe('worker parallel claims and prefetch', () => {
    const fx = useStore(harness)
    const track = workerTracker()

    it('batchSize 1, concurrency 6: several claims in flight, never more messages than free slots', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'parallel')
      const ids = await enqueueN(store, q, 60)
      const log = watchClaims(store)
      const handled = new Map<number, number>()
      try {
        const w = track(
          worker<Payload>(
            store,
            q,
            async (m) => {
              log.running++
              handled.set(m.id, (handled.get(m.id) ?? 0) + 1)
              await sleep(5)
              log.running--
            },
            { concurrency: 6, batchSize: 1, pollIntervalMs: 20, leaseMs: 10_000 },
          ),
        )
        let done = 0
        w.on('message:done', () => done++)
        await w.start()
        await waitFor(() => done >= ids.length, { timeoutMs: 20_000, what: '60 messages done' })
        await w.stop()
      } finally {
        log.restore()
      }
      expect([...handled.keys()].sort((a, b) => a - b)).toEqual(ids)
      expect([...handled.values()].every((c) => c === 1)).toBe(true)
      expect(log.maxClaims, 'claims in flight at once').toBeGreaterThan(1)
      expect(log.maxReserved, 'messages asked for + handlers running').toBeLessThanOrEqual(6)
      await track.stopAll()
    })

    it('prefetch 3: claims ahead only up to concurrency + prefetch, and hands held messages on in order', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'prefetch')
      const ids = await enqueueN(store, q, 40)
      const log = watchClaims(store)
      const order: number[] = []
      try {
        const w = track(
          worker<Payload>(
            store,
            q,
            async (m) => {
              log.running++
              order.push(m.payload.n)
              await sleep(5)
              log.running--
            },
            { concurrency: 2, batchSize: 1, prefetch: 3, pollIntervalMs: 20, leaseMs: 10_000 },
          ),
        )
        let done = 0
        w.on('message:done', () => done++)
        await w.start()
        await waitFor(() => done >= ids.length, { timeoutMs: 20_000, what: '40 messages done' })
        await w.stop()
      } finally {
        log.restore()
      }
      expect([...order].sort((a, b) => a - b)).toEqual(ids.map((_, n) => n))
      expect(log.maxReserved, 'asked for + running ≤ concurrency + prefetch').toBeLessThanOrEqual(5)
      await track.stopAll()
    })

    it('stop() releases prefetched messages at once, and never starts them', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'prefetch-stop')
      const ids = await enqueueN(store, q, 10)
      const started: number[] = []
      const running = deferred()
      const finish = deferred()
      const w = track(
        worker<Payload>(
          store,
          q,
          async (m) => {
            started.push(m.id)
            running.resolve()
            await finish.promise
          },
          { concurrency: 1, batchSize: 1, prefetch: 3, pollIntervalMs: 20, leaseMs: 10_000 },
        ),
      )
      await w.start()
      await running.promise
      // one message running, three held ahead of it
      await waitFor(async () => (await leasedBy(store, q, w)).length === 4, {
        what: 'four messages leased by the worker',
      })
      const stopped = w.stop({ graceMs: 10_000 })
      // The held messages are released while the running handler is still in its grace period.
      await waitFor(async () => (await leasedBy(store, q, w)).length === 1, {
        what: 'the prefetched messages released during the grace period',
      })
      expect(await leasedBy(store, q, w)).toEqual([started[0]])
      finish.resolve()
      await stopped
      expect(started, 'no prefetched message started after stop()').toEqual([ids[0]])
      expect(await store.queues.metrics(q)).toMatchObject({ archived: 1, pending: 9, leased: 0 })
      // released, not failed: the messages are visible now and their attempt is not held against them
      const probe = await store.consumer<Payload>(q)
      const back = await probe.dequeue({ batchSize: 20, leaseMs: 10_000 })
      expect(back.map((m) => m.id).sort((a, b) => a - b)).toEqual(ids.slice(1))
      await store.messages.release(back)
      await track.stopAll()
    })

    it('renews the leases of prefetched messages while they wait', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'prefetch-renew')
      const [first, second] = await enqueueN(store, q, 2)
      const handled: number[] = []
      const w = track(
        worker<Payload>(
          store,
          q,
          async (m) => {
            handled.push(m.id)
            if (m.id === first) await sleep(1_500) // 3 leases
          },
          { concurrency: 1, batchSize: 1, prefetch: 1, pollIntervalMs: 20, leaseMs: 500 },
        ),
      )
      let lost = 0
      w.on('lease:lost', () => lost++)
      let done = 0
      w.on('message:done', () => done++)
      await w.start()
      await waitFor(async () => (await leasedBy(store, q, w)).length === 2, {
        what: 'the second message prefetched',
      })
      await sleep(1_100) // the held message's first lease would have run out twice by now
      const probe = await store.consumer<Payload>(q)
      expect(await probe.dequeue({ batchSize: 5, leaseMs: 10_000 }), 'nothing claimable').toEqual(
        [],
      )
      await waitFor(() => done === 2, { timeoutMs: 5_000, what: 'both messages done' })
      await w.stop()
      expect(handled).toEqual([first, second])
      expect(lost).toBe(0)
      await track.stopAll()
    })
  })
}
