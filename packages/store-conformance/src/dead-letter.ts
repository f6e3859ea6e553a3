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
  waitFor,
} from './util.js'

/**
 * Registers the failure and dead-letter tests: `fail` with retry and dead outcomes, dead letters
 * by lease expiry, `replay`, and `purgeArchived` retention.
 */
export function deadLetterTests(harness: StoreHarness): void {
  describe('fail, dead letters and replay', () => {
    const fx = useStore(harness)

    it("fail with attempts left returns 'retried' and hides the message for the retry delay", async () => {
      const queue = await freshQueue(fx.store, 'fail-retry')
      await enqueuePayloads(fx.store, queue, [1])
      const m = await dequeueOne(fx.store, queue)
      const before = Date.now()
      expect(await fx.store.messages.fail(m, 'boom', 1_000)).toBe('retried')
      const stored = await fx.store.messages.get(m.id)
      expect(stored).toMatchObject({ lastError: 'boom', lease: null, deadAt: null, attempts: 1 })
      expectTimeNear(stored!.visibleAt, before + 1_000, CLOCK_SLACK_MS)
      expect(await fx.store.messages.dequeue(queue, { batchSize: 1, leaseMs: 1_000 })).toEqual([])
      const again = await waitFor(
        async () => (await fx.store.messages.dequeue(queue, { batchSize: 1, leaseMs: 30_000 }))[0],
        { what: 'the retried message' },
      )
      expect(again.id).toBe(m.id)
      expect(again.attempts).toBe(2)
      // leased at now = visibleAt - leaseMs (database clock), which must be after the retry delay
      expect(again.visibleAt.getTime() - 30_000).toBeGreaterThanOrEqual(stored!.visibleAt.getTime())
      expect(Date.now() - before).toBeGreaterThanOrEqual(900)
    })

    it("fail with no attempts left returns 'dead': deadAt set, lastError kept, never delivered", async () => {
      const queue = await freshQueue(fx.store, 'fail-dead')
      await fx.store.messages.enqueue(queue, [{ payload: { x: 1 }, maxAttempts: 1 }])
      const m = await dequeueOne(fx.store, queue)
      const before = Date.now()
      expect(await fx.store.messages.fail(m, 'fatal error', 0)).toBe('dead')
      const stored = await fx.store.messages.get(m.id)
      expect(stored).toMatchObject({ lastError: 'fatal error', lease: null, archivedAt: null })
      expectTimeNear(stored?.deadAt, before, CLOCK_SLACK_MS)
      const dead = await fx.store.messages.list(queue, { state: 'dead' })
      expect(dead.map((d) => d.id)).toEqual([m.id])
      expect((await fx.store.messages.list(queue)).map((d) => d.id)).toEqual([])
      await sleep(50)
      expect(await fx.store.messages.dequeue(queue, { batchSize: 10, leaseMs: 1_000 })).toEqual([])
      expect(await fx.store.messages.fail(m, 'again', 0)).toBe('lost')
    })

    it('replay of a dead message brings it back under the same id with attempts 0', async () => {
      const queue = await freshQueue(fx.store, 'replay-dead')
      await fx.store.messages.enqueue(queue, [{ payload: 'p', maxAttempts: 1 }])
      const m = await dequeueOne(fx.store, queue)
      expect(await fx.store.messages.fail(m, 'fatal', 0)).toBe('dead')
      const replayed = await fx.store.messages.replay(m.id)
      expect(replayed).toMatchObject({
        id: m.id,
        attempts: 0,
        deadAt: null,
        archivedAt: null,
        lease: null,
      })
      expect(replayed?.payload).toBe('p')
      expect(await fx.store.messages.list(queue, { state: 'dead' })).toEqual([])
      const again = await dequeueOne(fx.store, queue)
      expect(again.id).toBe(m.id)
      expect(again.attempts).toBe(1)
    })

    it("fail with a stale lease returns 'lost' and changes nothing", async () => {
      const queue = await freshQueue(fx.store, 'fail-stale')
      const { stale, current } = await takeOver(fx.store, queue)
      expect(await fx.store.messages.fail(stale, 'late', 0)).toBe('lost')
      const stored = await fx.store.messages.get(current.id)
      expect(stored).toMatchObject({
        lease: current.lease,
        lastError: null,
        deadAt: null,
        attempts: 2,
      })
      expect(stored?.visibleAt.getTime()).toBe(current.visibleAt.getTime())
    })

    it('a message whose lease ran out maxAttempts times is dead instead of delivered', async () => {
      const queue = await freshQueue(fx.store, 'lease-exhausted')
      const [m] = await fx.store.messages.enqueue(queue, [{ payload: 1, maxAttempts: 2 }])
      const first = await dequeueOne(fx.store, queue, 200)
      expect(first.attempts).toBe(1)
      const second = await waitFor(
        async () => (await fx.store.messages.dequeue(queue, { batchSize: 1, leaseMs: 200 }))[0],
        { what: 'the second delivery' },
      )
      expect(second.attempts).toBe(2)
      await sleep(Math.max(0, second.visibleAt.getTime() - Date.now()) + 100)
      expect(
        await fx.store.messages.dequeue(queue, { batchSize: 1, leaseMs: 1_000 }),
        'a message with no attempts left must not be delivered',
      ).toEqual([])
      const dead = await fx.store.messages.get(m!.id)
      expect(dead?.deadAt).toBeInstanceOf(Date)
      expect(dead?.lease).toBeNull()
      expect(dead?.lastError).toMatch(/lease|attempt/i)
      expect((await fx.store.messages.list(queue, { state: 'dead' })).map((d) => d.id)).toEqual([
        m!.id,
      ])
      expect(await fx.store.queues.metrics(queue)).toMatchObject({ dead: 1, pending: 0, leased: 0 })
    })

    it('replay of an archived message works too', async () => {
      const queue = await freshQueue(fx.store, 'replay-archived')
      await enqueuePayloads(fx.store, queue, [{ again: true }])
      const m = await dequeueOne(fx.store, queue)
      expect(await fx.store.messages.archive([m])).toEqual([true])
      const replayed = await fx.store.messages.replay(m.id)
      expect(replayed).toMatchObject({ id: m.id, attempts: 0, archivedAt: null, lease: null })
      expect(await fx.store.messages.list(queue, { state: 'archived' })).toEqual([])
      expect((await dequeueOne(fx.store, queue)).id).toBe(m.id)
    })

    it('replay of an unknown or an active message returns null and changes nothing', async () => {
      const queue = await freshQueue(fx.store, 'replay-active')
      expect(await fx.store.messages.replay(2_000_000_000)).toBeNull()
      const [pending] = await enqueuePayloads(fx.store, queue, [1, 2])
      expect(await fx.store.messages.replay(pending!.id)).toBeNull()
      const leased = await dequeueOne(fx.store, queue)
      expect(await fx.store.messages.replay(leased.id)).toBeNull()
      expect(await fx.store.messages.get(leased.id)).toMatchObject({
        attempts: 1,
        lease: leased.lease,
      })
      expect(await fx.store.queues.metrics(queue)).toMatchObject({ pending: 1, leased: 1 })
    })

    it('purgeArchived deletes archived messages of a queue and never an active or dead one', async () => {
      const queue = await freshQueue(fx.store, 'purge-archived')
      await fx.store.messages.enqueue(queue, [
        { payload: 'archive-1' },
        { payload: 'archive-2' },
        { payload: 'dies', maxAttempts: 1 },
        { payload: 'stays-leased' },
        { payload: 'stays-pending' },
      ])
      const ms = await fx.store.messages.dequeue(queue, { batchSize: 4, leaseMs: 30_000 })
      const by = new Map(ms.map((m) => [m.payload, m]))
      expect(await fx.store.messages.archive([by.get('archive-1')!, by.get('archive-2')!])).toEqual(
        [true, true],
      )
      expect(await fx.store.messages.fail(by.get('dies')!, 'x', 0)).toBe('dead')
      expect(await fx.store.messages.purgeArchived({ olderThanMs: 3_600_000, queue })).toBe(0)
      expect(await fx.store.messages.purgeArchived({ olderThanMs: 0, queue })).toBe(2)
      expect(await fx.store.messages.purgeArchived({ olderThanMs: 0 })).toBeGreaterThanOrEqual(0)
      expect(await fx.store.queues.metrics(queue)).toMatchObject({
        archived: 0,
        dead: 1,
        leased: 1,
        pending: 1,
      })
      expect(await fx.store.messages.get(by.get('archive-1')!.id)).toBeNull()
      expect(await fx.store.messages.get(by.get('stays-leased')!.id)).toMatchObject({
        archivedAt: null,
      })
      expect(
        await fx.store.messages.purgeArchived({ olderThanMs: 0, queue, includeDead: true }),
      ).toBe(1)
      expect(await fx.store.queues.metrics(queue)).toMatchObject({ dead: 0, leased: 1, pending: 1 })
    })
  })
}
