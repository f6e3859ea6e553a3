import { ValidationError } from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from './harness.js'
import {
  CLOCK_SLACK_MS,
  dequeueOne,
  enqueuePayloads,
  expectError,
  expectTimeNear,
  freshQueue,
  rejection,
  takeOver,
  uniqueName,
  useStore,
  waitFor,
} from './util.js'

/** Dequeue options the store must refuse. */
const INVALID_DEQUEUE_OPTIONS: readonly (readonly [
  string,
  { batchSize: number; leaseMs: number },
  string,
])[] = [
  ['batchSize 0', { batchSize: 0, leaseMs: 1_000 }, 'batchSize'],
  ['batchSize 1001', { batchSize: 1001, leaseMs: 1_000 }, 'batchSize'],
  ['batchSize 1.5', { batchSize: 1.5, leaseMs: 1_000 }, 'batchSize'],
  ['leaseMs 0', { batchSize: 1, leaseMs: 0 }, 'leaseMs'],
  ['leaseMs -5', { batchSize: 1, leaseMs: -5 }, 'leaseMs'],
]

/**
 * Registers the dequeue and lease tests: batches, claim order, lease fields, lease expiry and
 * redelivery, option validation, concurrent claims, `extendLease` and `release` (with fencing).
 */
export function dequeueLeaseTests(harness: StoreHarness): void {
  describe('dequeue and leases', () => {
    const fx = useStore(harness)

    it('an empty queue returns []', async () => {
      const queue = await freshQueue(fx.store, 'deq-empty')
      expect(await fx.store.messages.dequeue(queue, { batchSize: 10, leaseMs: 1_000 })).toEqual([])
    })

    it('returns up to batchSize messages without waiting to fill the batch', async () => {
      const queue = await freshQueue(fx.store, 'deq-batch')
      await enqueuePayloads(fx.store, queue, [1, 2, 3, 4, 5])
      const two = await fx.store.messages.dequeue(queue, { batchSize: 2, leaseMs: 30_000 })
      expect(two).toHaveLength(2)
      const started = Date.now()
      const rest = await fx.store.messages.dequeue(queue, { batchSize: 10, leaseMs: 30_000 })
      expect(Date.now() - started).toBeLessThan(2_000)
      expect(rest).toHaveLength(3)
      const ids = [...two, ...rest].map((m) => m.id)
      expect(new Set(ids).size).toBe(5)
    })

    it('claims by priority DESC, then visibleAt ASC, then id ASC', async () => {
      const queue = await freshQueue(fx.store, 'deq-order')
      const now = Date.now()
      const [a, b, c, d, e] = await fx.store.messages.enqueue(queue, [
        { payload: 'a', priority: 0 },
        { payload: 'b', priority: 5 },
        { payload: 'c', priority: 0, runAt: new Date(now - 10_000) },
        { payload: 'd', priority: 5 },
        { payload: 'e', priority: 0, runAt: new Date(now - 20_000) },
      ])
      const order: number[] = []
      for (let i = 0; i < 5; i++) order.push((await dequeueOne(fx.store, queue)).id)
      expect(order).toEqual([b!.id, d!.id, e!.id, c!.id, a!.id])
    })

    it('a batch takes the first messages of the claim order', async () => {
      const queue = await freshQueue(fx.store, 'deq-order-batch')
      const [low, high, mid] = await fx.store.messages.enqueue(queue, [
        { payload: 'low', priority: -1 },
        { payload: 'high', priority: 9 },
        { payload: 'mid', priority: 3 },
      ])
      const batch = await fx.store.messages.dequeue(queue, { batchSize: 2, leaseMs: 30_000 })
      expect(batch.map((m) => m.id).sort((x, y) => x - y)).toEqual(
        [high!.id, mid!.id].sort((x, y) => x - y),
      )
      expect((await dequeueOne(fx.store, queue)).id).toBe(low!.id)
    })

    it('a dequeued message has attempts + 1, a fresh lease token and visibleAt = now + leaseMs', async () => {
      const queue = await freshQueue(fx.store, 'deq-fields')
      const worker = await fx.store.workers.register({
        name: uniqueName('deq-consumer'),
        queue,
        hostname: 'conformance',
        pid: process.pid,
      })
      await enqueuePayloads(fx.store, queue, [1, 2, 3])
      const before = Date.now()
      const batch = await fx.store.messages.dequeue(queue, {
        batchSize: 3,
        leaseMs: 10_000,
        consumerId: worker.id,
      })
      expect(batch).toHaveLength(3)
      for (const m of batch) {
        expect(m.attempts).toBe(1)
        expect(typeof m.lease).toBe('string')
        expect(m.lease!.length).toBeGreaterThan(0)
        expect(m.consumerId).toBe(worker.id)
        expect(m.dequeuedAt).toBeInstanceOf(Date)
        expectTimeNear(m.visibleAt, m.dequeuedAt!.getTime() + 10_000, 50)
        expectTimeNear(m.visibleAt, before + 10_000, CLOCK_SLACK_MS)
        const stored = await fx.store.messages.get(m.id)
        expect(stored).toMatchObject({ attempts: 1, lease: m.lease, consumerId: worker.id })
      }
      expect(new Set(batch.map((m) => m.lease)).size).toBe(3)
    })

    it('a leased message is not delivered again while its lease runs', async () => {
      const queue = await freshQueue(fx.store, 'deq-leased')
      await enqueuePayloads(fx.store, queue, [1])
      await dequeueOne(fx.store, queue, 30_000)
      expect(await fx.store.messages.dequeue(queue, { batchSize: 10, leaseMs: 1_000 })).toEqual([])
    })

    it('after a 200 ms lease runs out the message is delivered again with attempts 2 and a new token', async () => {
      const queue = await freshQueue(fx.store, 'deq-expiry')
      const { stale, current } = await takeOver(fx.store, queue, 200)
      expect(stale.attempts).toBe(1)
      expect(current.attempts).toBe(2)
      expect(current.lease).not.toBeNull()
      expect(current.lease).not.toBe(stale.lease)
      // the second lease (30 s) started at or after the end of the first one (database clock)
      expect(current.visibleAt.getTime() - 30_000).toBeGreaterThanOrEqual(stale.visibleAt.getTime())
    })

    it('a delayed message is delivered once its delay passed', async () => {
      const queue = await freshQueue(fx.store, 'deq-delayed')
      const [m] = await fx.store.messages.enqueue(queue, [{ payload: 1, delayMs: 600 }])
      expect(await fx.store.messages.dequeue(queue, { batchSize: 1, leaseMs: 1_000 })).toEqual([])
      const got = await waitFor(
        async () => (await fx.store.messages.dequeue(queue, { batchSize: 1, leaseMs: 30_000 }))[0],
        { what: 'the delayed message' },
      )
      expect(got.id).toBe(m!.id)
      expect(got.visibleAt.getTime() - 30_000).toBeGreaterThanOrEqual(m!.visibleAt.getTime())
    })

    for (const [label, options, field] of INVALID_DEQUEUE_OPTIONS) {
      it(`${label} throws ValidationError naming ${field}; nothing is leased`, async () => {
        const queue = await freshQueue(fx.store, 'deq-invalid')
        await enqueuePayloads(fx.store, queue, [1])
        const e = await rejection(fx.store.messages.dequeue(queue, options))
        expectError(e, ValidationError, 'VALIDATION', field)
        expect(await fx.store.queues.metrics(queue)).toMatchObject({ pending: 1, leased: 0 })
      })
    }

    it('batchSize 1000 is allowed', async () => {
      const queue = await freshQueue(fx.store, 'deq-max-batch')
      await enqueuePayloads(fx.store, queue, [1, 2])
      expect(
        await fx.store.messages.dequeue(queue, { batchSize: 1000, leaseMs: 30_000 }),
      ).toHaveLength(2)
    })

    it('5 concurrent dequeues never deliver a message twice', async () => {
      const queue = await freshQueue(fx.store, 'deq-concurrent')
      await enqueuePayloads(
        fx.store,
        queue,
        Array.from({ length: 50 }, (_, i) => i),
      )
      const batches = await Promise.all(
        Array.from({ length: 5 }, () =>
          fx.store.messages.dequeue(queue, { batchSize: 10, leaseMs: 30_000 }),
        ),
      )
      const ids = batches.flat().map((m) => m.id)
      expect(new Set(ids).size).toBe(ids.length)
      for (const b of batches) expect(b.length).toBeLessThanOrEqual(10)
      const rest = await fx.store.messages.dequeue(queue, { batchSize: 100, leaseMs: 30_000 })
      const all = [...ids, ...rest.map((m) => m.id)]
      expect(all).toHaveLength(50)
      expect(new Set(all).size).toBe(50)
    })

    it('list filters by state (default active), oldest first, with a limit', async () => {
      const queue = await freshQueue(fx.store, 'list-states')
      const [p1, p2, p3] = await enqueuePayloads(fx.store, queue, ['p1', 'p2', 'p3'])
      const [d] = await fx.store.messages.enqueue(queue, [{ payload: 'd', delayMs: 60_000 }])
      const leased = await fx.store.messages.dequeue(queue, { batchSize: 2, leaseMs: 30_000 })
      expect(leased.map((m) => m.id).sort((x, y) => x - y)).toEqual([p1!.id, p2!.id])
      const second = leased.find((m) => m.id === p2!.id)!
      expect(await fx.store.messages.archive([second])).toEqual([true])
      const ids = async (state?: 'pending' | 'leased' | 'delayed' | 'archived' | 'dead') =>
        (await fx.store.messages.list(queue, state ? { state } : {})).map((m) => m.id)
      expect(await ids()).toEqual([p1!.id, p3!.id, d!.id])
      expect(await ids('pending')).toEqual([p3!.id])
      expect(await ids('leased')).toEqual([p1!.id])
      expect(await ids('delayed')).toEqual([d!.id])
      expect(await ids('archived')).toEqual([p2!.id])
      expect(await ids('dead')).toEqual([])
      const limited = await fx.store.messages.list(queue, { state: 'active', limit: 2 })
      expect(limited.map((m) => m.id)).toEqual([p1!.id, p3!.id])
    })

    it('list of archived messages: in the order they were archived, not by id', async () => {
      const queue = await freshQueue(fx.store, 'list-archived-order')
      const [a, b] = await enqueuePayloads(fx.store, queue, ['a', 'b'])
      const leased = await fx.store.messages.dequeue(queue, { batchSize: 2, leaseMs: 30_000 })
      const byId = new Map(leased.map((m) => [m.id, m]))
      expect(await fx.store.messages.archive([byId.get(b!.id)!])).toEqual([true])
      await new Promise((r) => setTimeout(r, 5)) // distinct archive times on every clock
      expect(await fx.store.messages.archive([byId.get(a!.id)!])).toEqual([true])
      const archived = await fx.store.messages.list(queue, { state: 'archived' })
      expect(archived.map((m) => m.id)).toEqual([b!.id, a!.id])
    })

    it('list returns at most 100 messages by default', async () => {
      const queue = await freshQueue(fx.store, 'list-default-limit')
      const all = await enqueuePayloads(
        fx.store,
        queue,
        Array.from({ length: 120 }, (_, i) => i),
      )
      const listed = await fx.store.messages.list(queue)
      expect(listed).toHaveLength(100)
      expect(listed.map((m) => m.id)).toEqual(all.slice(0, 100).map((m) => m.id))
    })

    it('extendLease moves the lease end to now + leaseMs and keeps the token', async () => {
      const queue = await freshQueue(fx.store, 'lease-extend')
      await enqueuePayloads(fx.store, queue, [1])
      const m = await dequeueOne(fx.store, queue, 1_000)
      const before = Date.now()
      expect(await fx.store.messages.extendLease(m, 60_000)).toBe(true)
      const stored = await fx.store.messages.get(m.id)
      expect(stored?.lease).toBe(m.lease)
      expectTimeNear(stored!.visibleAt, before + 60_000, CLOCK_SLACK_MS)
      expect(await fx.store.messages.dequeue(queue, { batchSize: 1, leaseMs: 1_000 })).toEqual([])
      expect(await fx.store.messages.archive([m])).toEqual([true])
    })

    it('release(ref, 0) makes the message visible at once, uncounted and unleased', async () => {
      const queue = await freshQueue(fx.store, 'lease-release')
      await enqueuePayloads(fx.store, queue, [1])
      const m = await dequeueOne(fx.store, queue)
      expect(m.attempts).toBe(1)
      expect(await fx.store.messages.release([m], 0)).toEqual([true])
      const stored = await fx.store.messages.get(m.id)
      expect(stored).toMatchObject({ attempts: 0, lease: null })
      const again = await dequeueOne(fx.store, queue)
      expect(again.id).toBe(m.id)
      expect(again.attempts).toBe(1)
      expect(await fx.store.messages.release([m], 0)).toEqual([false])
    })

    it('release(ref, 5000) hides the message for 5 s', async () => {
      const queue = await freshQueue(fx.store, 'lease-release-delay')
      await enqueuePayloads(fx.store, queue, [1])
      const m = await dequeueOne(fx.store, queue)
      const before = Date.now()
      expect(await fx.store.messages.release([m], 5_000)).toEqual([true])
      expect(await fx.store.messages.dequeue(queue, { batchSize: 1, leaseMs: 1_000 })).toEqual([])
      const stored = await fx.store.messages.get(m.id)
      expect(stored?.lease).toBeNull()
      expectTimeNear(stored!.visibleAt, before + 5_000, CLOCK_SLACK_MS)
      expect(await fx.store.queues.metrics(queue)).toMatchObject({
        delayed: 1,
        leased: 0,
        pending: 0,
      })
    })

    it('a stale holder cannot extend the lease; the message is unchanged', async () => {
      const queue = await freshQueue(fx.store, 'lease-stale-extend')
      const { stale, current } = await takeOver(fx.store, queue)
      expect(await fx.store.messages.extendLease(stale, 60_000)).toBe(false)
      const stored = await fx.store.messages.get(current.id)
      expect(stored?.lease).toBe(current.lease)
      expect(stored?.visibleAt.getTime()).toBe(current.visibleAt.getTime())
      expect(stored?.attempts).toBe(2)
    })

    it('a stale holder cannot release; the message stays leased by the new holder', async () => {
      const queue = await freshQueue(fx.store, 'lease-stale-release')
      const { stale, current } = await takeOver(fx.store, queue)
      expect(await fx.store.messages.release([stale], 0)).toEqual([false])
      const stored = await fx.store.messages.get(current.id)
      expect(stored).toMatchObject({ lease: current.lease, attempts: 2 })
      expect(await fx.store.messages.dequeue(queue, { batchSize: 1, leaseMs: 1_000 })).toEqual([])
      expect(await fx.store.messages.release([current], 0)).toEqual([true])
    })

    it('extendLease and release of an unknown id or a null lease return false', async () => {
      const queue = await freshQueue(fx.store, 'lease-unknown')
      const [m] = await enqueuePayloads(fx.store, queue, [1])
      expect(await fx.store.messages.extendLease({ id: 2_000_000_000, lease: 'nope' }, 1_000)).toBe(
        false,
      )
      expect(await fx.store.messages.release([{ id: 2_000_000_000, lease: 'nope' }])).toEqual([
        false,
      ])
      expect(await fx.store.messages.extendLease({ id: m!.id, lease: null }, 1_000)).toBe(false)
      expect(await fx.store.messages.release([{ id: m!.id, lease: null }], 0)).toEqual([false])
      expect(await fx.store.messages.get(m!.id)).toMatchObject({ attempts: 0, lease: null })
    })
  })
}
