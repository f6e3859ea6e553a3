import { BackoffStrategy, LeaseLostError, type QueueMessage } from '@pgqrs/core'
import { admin, worker } from '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { expectError, freshQueue, rejection, sleep, useStore, waitFor } from '../util.js'
import { getMessage, workerTracker } from './helpers.js'

/**
 * Consumer lease operations at the queue API: the current holder's archive / delete /
 * extendLease / release / fail, a stale holder refused (`false`, `LeaseLostError` from the
 * `*OrThrow` variants) with nothing changed, retries that wait for their backoff, dead letters
 * after `maxAttempts` and `admin.replay`.
 */
export function consumerLeaseTests(harness: StoreHarness): void {
  describe('consumer leases', () => {
    const fx = useStore(harness)
    const track = workerTracker()

    it('the holder extends, releases (not counted) and deletes', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'holder')
      const producer = await store.producer(q)
      const consumer = await store.consumer(q)
      const [a, b] = await producer.enqueueMany([{ n: 1 }, { n: 2 }])
      const [m] = await consumer.dequeue({ leaseMs: 300 })
      expect(m!.id).toBe(a!.id)
      expect(await consumer.extendLease(m!, 60_000)).toBe(true)
      const extended = await getMessage(store, m!.id)
      expect(extended.visibleAt.getTime() - m!.visibleAt.getTime()).toBeGreaterThan(50_000)
      await consumer.extendLeaseOrThrow(m!, 60_000)
      expect(await consumer.release(m!)).toBe(true)
      const released = await getMessage(store, m!.id)
      expect(released).toMatchObject({ lease: null, attempts: 0 })
      // Visible again now (after b, which has waited longer).
      const both = await consumer.dequeue({ batchSize: 10 })
      expect(both.map((x) => x.id).sort((x, y) => x - y)).toEqual([a!.id, b!.id])
      const again = both.find((x) => x.id === a!.id)
      const m2 = both.find((x) => x.id === b!.id)
      expect(again!.attempts).toBe(1)
      expect(again!.lease).not.toBe(m!.lease)
      await consumer.releaseOrThrow(again!, { delayMs: 60_000 })
      expect((await store.messages.list(q, { state: 'delayed' })).map((x) => x.id)).toEqual([a!.id])
      expect(await consumer.dequeue()).toEqual([])
      expect(await consumer.delete(m2!)).toBe(true)
      expect(await store.messages.get(b!.id)).toBeNull()
    })

    it('dequeue returns the batch in claim order: priority DESC, visible_at ASC, id ASC', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'claim-order')
      const producer = await store.producer(q)
      const consumer = await store.consumer(q)
      const [a, b] = await producer.enqueueMany([{ n: 'a' }, { n: 'b' }])
      const [m] = await consumer.dequeue()
      expect(m!.id).toBe(a!.id)
      // a is visible again from now: later than b, which was visible from its enqueue. (The sleeps
      // keep the instants apart on a millisecond clock.)
      await sleep(5)
      expect(await consumer.release(m!)).toBe(true)
      await sleep(5)
      const c = await producer.enqueue({ n: 'c' })
      const high = await producer.enqueue({ n: 'high' }, { priority: 1 })
      const got = await consumer.dequeue({ batchSize: 10 })
      expect(
        got.map((x) => x.payload),
        'the order of the returned batch',
      ).toEqual([{ n: 'high' }, { n: 'b' }, { n: 'a' }, { n: 'c' }])
      expect(got.map((x) => x.id)).toEqual([high.id, b!.id, a!.id, c.id])
    })

    it('a stale holder gets false / LeaseLostError from every lease operation and nothing changes', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'stale')
      const producer = await store.producer(q)
      const first = await store.consumer(q)
      const second = await store.consumer(q)
      const msg = await producer.enqueue({ n: 1 })
      const [stale] = await first.dequeue({ leaseMs: 200 })
      const current = await waitFor(async () => (await second.dequeue({ leaseMs: 60_000 }))[0], {
        what: 'redelivery after the 200 ms lease',
      })
      expect(current.id).toBe(msg.id)
      const before = await getMessage(store, msg.id)
      expect(before.lease).toBe(current.lease)

      expect(await first.archive(stale!)).toBe(false)
      expect(await first.delete(stale!)).toBe(false)
      expect(await first.extendLease(stale!, 60_000)).toBe(false)
      expect(await first.release(stale!)).toBe(false)
      expect(await first.fail(stale!, new Error('late'))).toBe(false)
      expect(await first.archiveMany([stale!, { id: msg.id, lease: null }])).toEqual([false, false])
      expect(await first.deleteMany([stale!])).toEqual([false])
      const ops: [string, () => Promise<unknown>][] = [
        ['archive', () => first.archiveOrThrow(stale!)],
        ['delete', () => first.deleteOrThrow(stale!)],
        ['extendLease', () => first.extendLeaseOrThrow(stale!, 1_000)],
        ['release', () => first.releaseOrThrow(stale!)],
        ['fail', () => first.failOrThrow(stale!, new Error('late'))],
      ]
      for (const [op, call] of ops) {
        const e = expectError(
          await rejection(call()),
          LeaseLostError,
          'LEASE_LOST',
          `message ${msg.id}`,
          op,
        )
        expect(e.messageId).toBe(msg.id)
      }
      expect(await getMessage(store, msg.id)).toEqual(before)
      // The current holder is unaffected.
      expect(await second.archive(current)).toBe(true)
    })

    it('archiveMany / deleteMany answer per message', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'many')
      const producer = await store.producer(q)
      const consumer = await store.consumer(q)
      await producer.enqueueMany([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }])
      const [m1, m2, m3, m4] = await consumer.dequeue({ batchSize: 4 })
      expect(await consumer.archiveMany([m1!, { id: m2!.id, lease: null }, m3!])).toEqual([
        true,
        false,
        true,
      ])
      expect(await consumer.deleteMany([m2!, m1!, m4!])).toEqual([true, false, true])
      expect((await getMessage(store, m1!.id)).archivedAt).toBeInstanceOf(Date)
      expect(await store.messages.get(m2!.id)).toBeNull()
    })

    it('fail({ delayMs: 400 }): not delivered before its backoff delay', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'fail-delay')
      const producer = await store.producer(q)
      const consumer = await store.consumer(q)
      const msg = await producer.enqueue({ n: 1 })
      const [m] = await consumer.dequeue()
      const failedAt = Date.now()
      expect(await consumer.fail(m!, new Error('try later'), { delayMs: 400 })).toBe('retried')
      const after = await getMessage(store, msg.id)
      expect(after).toMatchObject({ lease: null, attempts: 1, deadAt: null })
      expect(after.lastError).toContain('Error: try later')
      expect(await consumer.dequeue()).toEqual([])
      const again = await waitFor(async () => (await consumer.dequeue())[0], { intervalMs: 10 })
      const waited = Date.now() - failedAt
      expect(again.id).toBe(msg.id)
      expect(again.attempts).toBe(2)
      expect(waited, 'redelivered before its 400 ms backoff').toBeGreaterThanOrEqual(380)
    })

    it('a worker with BackoffStrategy.fixed(400) retries a failed message after 400 ms, never hot', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'fail-worker')
      const producer = await store.producer(q)
      const starts: number[] = []
      const failures: number[] = []
      const w = track(
        worker<{ n: number }>(
          store,
          q,
          async () => {
            starts.push(Date.now())
            if (starts.length === 1) throw new Error('first attempt fails')
          },
          { backoff: BackoffStrategy.fixed(400), pollIntervalMs: 20, leaseMs: 5_000 },
        ),
      )
      w.on('message:failed', () => failures.push(Date.now()))
      const done: QueueMessage<{ n: number }>[] = []
      w.on('message:done', (m) => done.push(m))
      await w.start()
      const msg = await producer.enqueue({ n: 1 })
      await waitFor(() => done.length === 1, { what: 'the retry to succeed' })
      await w.stop()
      expect(starts).toHaveLength(2)
      expect(failures).toHaveLength(1)
      expect(starts[1]! - failures[0]!, 'retry waited for its backoff').toBeGreaterThanOrEqual(370)
      expect(done[0]!.id).toBe(msg.id)
      const m = await getMessage(store, msg.id)
      expect(m.archivedAt).toBeInstanceOf(Date)
      expect(m.attempts).toBe(2)
      expect(m.lastError).toContain('first attempt fails')
      await track.stopAll()
    })

    it('dead after maxAttempts with lastError; admin.replay brings it back under the same id', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'dead')
      const producer = await store.producer(q)
      const consumer = await store.consumer(q)
      const msg = await producer.enqueue({ keep: 'me' }, { maxAttempts: 3 })
      const outcomes: unknown[] = []
      for (let i = 1; i <= 3; i++) {
        const [m] = await consumer.dequeue()
        expect(m?.id).toBe(msg.id)
        expect(m!.attempts).toBe(i)
        outcomes.push(await consumer.fail(m!, new Error(`failure ${i}`), { delayMs: 0 }))
      }
      expect(outcomes).toEqual(['retried', 'retried', 'dead'])
      expect(await consumer.dequeue()).toEqual([])
      const dead = await getMessage(store, msg.id)
      expect(dead.deadAt).toBeInstanceOf(Date)
      expect(dead.lastError).toMatch(/^Error: failure 3/)
      const letters = await admin(store).deadLetters(q)
      expect(letters.map((m) => m.id)).toEqual([msg.id])
      const replayed = await admin(store).replay(msg.id)
      expect(replayed).toMatchObject({
        id: msg.id,
        attempts: 0,
        deadAt: null,
        lease: null,
        payload: { keep: 'me' },
      })
      expect(await admin(store).deadLetters(q)).toEqual([])
      const [back] = await consumer.dequeue()
      expect(back).toMatchObject({ id: msg.id, attempts: 1, payload: { keep: 'me' } })
      expect(await consumer.archive(back!)).toBe(true)
      // An archived message can be replayed too.
      const again = await admin(store).replay(msg.id)
      expect(again).toMatchObject({ id: msg.id, attempts: 0, archivedAt: null })
      expect((await consumer.dequeue())[0]?.id).toBe(msg.id)
    })

    it('a message whose lease ran out maxAttempts times is dead, not delivered again', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'expire-dead')
      const producer = await store.producer(q)
      const consumer = await store.consumer(q)
      const msg = await producer.enqueue({ n: 1 }, { maxAttempts: 1 })
      const [m] = await consumer.dequeue({ leaseMs: 150 })
      expect(m!.id).toBe(msg.id)
      await waitFor(
        async () => (await getMessage(store, msg.id)).visibleAt.getTime() + 100 < Date.now(),
      )
      expect(await consumer.dequeue()).toEqual([])
      const dead = await waitFor(async () => {
        const d = await getMessage(store, msg.id)
        return d.deadAt ? d : null
      })
      expect(dead.attempts).toBe(1)
      expect((await admin(store).deadLetters(q)).map((d) => d.id)).toEqual([msg.id])
    })
  })
}
