import { settleAndDequeue } from '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from './harness.js'
import {
  CLOCK_SLACK_MS,
  dequeueOne,
  enqueuePayloads,
  expectTimeNear,
  freshQueue,
  sleep,
  takeOver,
  useStore,
} from './util.js'

const UNKNOWN_ID = 2_000_000_000

/**
 * Registers the archive and delete tests: settling a message with its current lease, positional
 * results, and fencing of stale, unknown and unleased references.
 */
export function archiveDeleteTests(harness: StoreHarness): void {
  describe('archive and delete', () => {
    const fx = useStore(harness)

    it('archive with the current lease returns [true]; the message keeps its row with archivedAt', async () => {
      const queue = await freshQueue(fx.store, 'arch')
      const [enqueued] = await enqueuePayloads(fx.store, queue, [{ keep: 'me' }])
      const m = await dequeueOne(fx.store, queue)
      const before = Date.now()
      expect(await fx.store.messages.archive([m])).toEqual([true])
      const stored = await fx.store.messages.get(m.id)
      expect(stored?.id).toBe(enqueued!.id)
      expect(stored?.payload).toEqual({ keep: 'me' })
      expectTimeNear(stored?.archivedAt, before, CLOCK_SLACK_MS)
      expect(stored?.deadAt).toBeNull()
      expect((await fx.store.messages.list(queue)).map((x) => x.id)).toEqual([])
      expect((await fx.store.messages.list(queue, { state: 'archived' })).map((x) => x.id)).toEqual(
        [m.id],
      )
    })

    it('a second archive of the same delivery returns [false]', async () => {
      const queue = await freshQueue(fx.store, 'arch-twice')
      await enqueuePayloads(fx.store, queue, [1])
      const m = await dequeueOne(fx.store, queue)
      expect(await fx.store.messages.archive([m])).toEqual([true])
      const archivedAt = (await fx.store.messages.get(m.id))?.archivedAt
      expect(await fx.store.messages.archive([m])).toEqual([false])
      expect((await fx.store.messages.get(m.id))?.archivedAt?.getTime()).toBe(archivedAt?.getTime())
      expect(await fx.store.queues.metrics(queue)).toMatchObject({ archived: 1, leased: 0 })
    })

    it('an archived message is never delivered again', async () => {
      const queue = await freshQueue(fx.store, 'arch-gone')
      await enqueuePayloads(fx.store, queue, [1])
      const m = await dequeueOne(fx.store, queue, 200)
      await fx.store.messages.archive([m])
      await sleep(300)
      expect(await fx.store.messages.dequeue(queue, { batchSize: 10, leaseMs: 1_000 })).toEqual([])
    })

    it('archive returns positional booleans for mixed references', async () => {
      const queue = await freshQueue(fx.store, 'arch-mixed')
      await enqueuePayloads(fx.store, queue, [1, 2, 3])
      const [m1, m2, m3] = await fx.store.messages.dequeue(queue, { batchSize: 3, leaseMs: 30_000 })
      const result = await fx.store.messages.archive([
        m1!,
        { id: m2!.id, lease: 'not-the-token' },
        { id: UNKNOWN_ID, lease: 'x' },
        m3!,
      ])
      expect(result).toEqual([true, false, false, true])
      expect(await fx.store.messages.get(m2!.id)).toMatchObject({
        archivedAt: null,
        lease: m2!.lease,
      })
    })

    it('archive([]) and delete([]) return []', async () => {
      expect(await fx.store.messages.archive([])).toEqual([])
      expect(await fx.store.messages.delete([])).toEqual([])
    })

    it('a stale holder cannot archive; the new holder still can', async () => {
      const queue = await freshQueue(fx.store, 'arch-stale')
      const { stale, current } = await takeOver(fx.store, queue)
      expect(await fx.store.messages.archive([stale])).toEqual([false])
      const stored = await fx.store.messages.get(current.id)
      expect(stored).toMatchObject({ archivedAt: null, lease: current.lease, attempts: 2 })
      expect(stored?.visibleAt.getTime()).toBe(current.visibleAt.getTime())
      expect(await fx.store.messages.archive([current])).toEqual([true])
    })

    it('settleAndDequeue archives with current leases, then claims the next batch, in one call', async () => {
      const queue = await freshQueue(fx.store, 'arch-deq')
      await enqueuePayloads(fx.store, queue, [1, 2, 3, 4, 5])
      const first = await fx.store.messages.dequeue(queue, { batchSize: 2, leaseMs: 30_000 })
      expect(first.map((m) => m.payload)).toEqual([1, 2])
      const stale = { id: first[1]!.id, lease: first[0]!.lease }
      const got = await settleAndDequeue(fx.store, [first[0]!, stale], queue, {
        batchSize: 2,
        leaseMs: 30_000,
      })
      expect(got.settled).toEqual([true, false])
      expect(got.messages.map((m) => m.payload)).toEqual([3, 4])
      expect(got.messages.every((m) => m.lease !== null && m.attempts === 1)).toBe(true)
      expect((await fx.store.messages.get(first[0]!.id))?.archivedAt).toBeInstanceOf(Date)
      expect((await fx.store.messages.get(first[1]!.id))?.archivedAt).toBeNull()
      // nothing left to claim: the archive still stands
      const rest = await settleAndDequeue(fx.store, [first[1]!, ...got.messages], queue, {
        batchSize: 10,
        leaseMs: 30_000,
      })
      expect(rest.settled).toEqual([true, true, true])
      expect(rest.messages.map((m) => m.payload)).toEqual([5])
      expect(await fx.store.queues.metrics(queue)).toMatchObject({ archived: 4, leased: 1 })
      const none = await settleAndDequeue(fx.store, [], queue, {
        batchSize: 1,
        leaseMs: 1_000,
      })
      expect(none).toEqual({ settled: [], messages: [] })
      await expect(
        settleAndDequeue(fx.store, rest.messages, 'no_such_queue_here', {
          batchSize: 1,
          leaseMs: 1_000,
        }),
      ).rejects.toMatchObject({ code: 'QUEUE_NOT_FOUND' })
      await expect(
        settleAndDequeue(fx.store, rest.messages, queue, { batchSize: 0, leaseMs: 1_000 }),
      ).rejects.toMatchObject({ code: 'VALIDATION' })
      expect((await fx.store.messages.get(rest.messages[0]!.id))?.archivedAt).toBeNull()
    })

    it("settleAndDequeue with settle: 'delete' removes the finished messages for good, then claims", async () => {
      const queue = await freshQueue(fx.store, 'del-deq')
      await enqueuePayloads(fx.store, queue, ['a', 'b', 'c'])
      const first = await fx.store.messages.dequeue(queue, { batchSize: 2, leaseMs: 30_000 })
      const stale = { id: first[1]!.id, lease: first[0]!.lease }
      const got = await settleAndDequeue(fx.store, [first[0]!, stale], queue, {
        batchSize: 5,
        leaseMs: 30_000,
        settle: 'delete',
      })
      expect(got.settled).toEqual([true, false])
      expect(got.messages.map((m) => m.payload)).toEqual(['c'])
      expect(await fx.store.messages.get(first[0]!.id)).toBeNull()
      expect((await fx.store.messages.get(first[1]!.id))?.lease).toBe(first[1]!.lease)
      expect(await fx.store.queues.metrics(queue)).toMatchObject({ archived: 0, leased: 2 })
      await expect(
        settleAndDequeue(fx.store, got.messages, queue, {
          batchSize: 1,
          leaseMs: 1_000,
          settle: 'drop' as 'delete',
        }),
      ).rejects.toMatchObject({ code: 'VALIDATION' })
      expect((await fx.store.messages.get(got.messages[0]!.id))?.lease).toBe(got.messages[0]!.lease)
    })

    it('a stale holder cannot delete; the message stays leased by the new holder', async () => {
      const queue = await freshQueue(fx.store, 'del-stale')
      const { stale, current } = await takeOver(fx.store, queue)
      expect(await fx.store.messages.delete([stale])).toEqual([false])
      expect(await fx.store.messages.get(current.id)).toMatchObject({
        lease: current.lease,
        attempts: 2,
      })
      expect(await fx.store.queues.metrics(queue)).toMatchObject({ leased: 1 })
    })

    it('delete with the current lease removes the message for good', async () => {
      const queue = await freshQueue(fx.store, 'del')
      await enqueuePayloads(fx.store, queue, [1])
      const m = await dequeueOne(fx.store, queue)
      expect(await fx.store.messages.delete([m])).toEqual([true])
      expect(await fx.store.messages.get(m.id)).toBeNull()
      expect(await fx.store.messages.delete([m])).toEqual([false])
      expect(await fx.store.queues.metrics(queue)).toMatchObject({
        pending: 0,
        leased: 0,
        archived: 0,
        dead: 0,
      })
    })

    it('delete returns positional booleans for mixed references', async () => {
      const queue = await freshQueue(fx.store, 'del-mixed')
      await enqueuePayloads(fx.store, queue, [1, 2])
      const [m1, m2] = await fx.store.messages.dequeue(queue, { batchSize: 2, leaseMs: 30_000 })
      expect(
        await fx.store.messages.delete([
          { id: UNKNOWN_ID, lease: 'x' },
          m1!,
          { id: m2!.id, lease: 'bad' },
        ]),
      ).toEqual([false, true, false])
      expect(await fx.store.messages.get(m1!.id)).toBeNull()
      expect(await fx.store.messages.get(m2!.id)).not.toBeNull()
    })

    it('archive and delete of an unknown id or a null lease return false and change nothing', async () => {
      const queue = await freshQueue(fx.store, 'arch-null')
      const [pending] = await enqueuePayloads(fx.store, queue, [1])
      expect(await fx.store.messages.archive([{ id: UNKNOWN_ID, lease: 'x' }])).toEqual([false])
      expect(await fx.store.messages.delete([{ id: UNKNOWN_ID, lease: 'x' }])).toEqual([false])
      expect(await fx.store.messages.archive([{ id: pending!.id, lease: null }])).toEqual([false])
      expect(await fx.store.messages.delete([{ id: pending!.id, lease: null }])).toEqual([false])
      expect(await fx.store.messages.get(pending!.id)).toMatchObject({
        archivedAt: null,
        attempts: 0,
      })
      const leased = await dequeueOne(fx.store, queue)
      expect(await fx.store.messages.archive([{ id: leased.id, lease: null }])).toEqual([false])
      expect(await fx.store.messages.get(leased.id)).toMatchObject({
        archivedAt: null,
        lease: leased.lease,
      })
    })
  })
}
