import type { Store } from '@pgqrs/core'
import '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import {
  CLOCK_SLACK_MS,
  expectTimeNear,
  freshQueue,
  totalMessages,
  useStore,
  waitFor,
} from '../util.js'
import { getMessage } from './helpers.js'

/** A Kysely instance on the store's database, as the harness declares it. */
function kyselyOf(
  harness: StoreHarness,
  store: Store,
): {
  transaction(): { execute<T>(fn: (trx: unknown) => Promise<T>): Promise<T> }
} {
  return harness.kysely!(store).db as ReturnType<typeof kyselyOf>
}

class Rollback extends Error {
  constructor() {
    super('roll back on purpose')
  }
}

/**
 * Enqueue options at the queue API (`producer.enqueue`): delayMs, runAt, priority, dedupeKey,
 * maxAttempts, and transactional enqueue through `store.transaction`, a Kysely transaction of
 * the store's own Kysely instance and (Postgres) a raw `pg` client inside BEGIN.
 */
export function enqueueOptionTests(harness: StoreHarness): void {
  describe('enqueue options', () => {
    const fx = useStore(harness)

    it('delayMs: the message is delayed, then delivered once the delay passed', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'delay')
      const producer = await store.producer(q)
      const consumer = await store.consumer(q)
      const t0 = Date.now()
      const msg = await producer.enqueue({ n: 1 }, { delayMs: 400 })
      expectTimeNear(msg.visibleAt, msg.enqueuedAt.getTime() + 400, 50)
      expect(await consumer.dequeue()).toEqual([])
      expect((await store.messages.list(q, { state: 'delayed' })).map((m) => m.id)).toEqual([
        msg.id,
      ])
      const [got] = await waitFor(async () => {
        const r = await consumer.dequeue()
        return r.length > 0 ? r : null
      })
      expect(got!.id).toBe(msg.id)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(300)
    })

    it('runAt: visible from that instant (wins over delayMs)', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'runat')
      const producer = await store.producer(q)
      const runAt = new Date(Date.now() + 60_000)
      const msg = await producer.enqueue({ n: 1 }, { runAt, delayMs: 0 })
      expectTimeNear(msg.visibleAt, runAt.getTime(), CLOCK_SLACK_MS)
      const soon = await producer.enqueue({ n: 2 }, { runAt: new Date(Date.now() + 300) })
      const consumer = await store.consumer(q)
      expect(await consumer.dequeue({ batchSize: 10 })).toEqual([])
      const got = await waitFor(async () => (await consumer.dequeue({ batchSize: 10 }))[0])
      expect(got.id).toBe(soon.id)
      expect((await getMessage(store, msg.id)).attempts).toBe(0)
    })

    it('priority: higher first, then oldest first', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'prio')
      const producer = await store.producer(q)
      const low = await producer.enqueue({ p: 'low' }, { priority: -1 })
      const mid1 = await producer.enqueue({ p: 'mid1' })
      const high = await producer.enqueue({ p: 'high' }, { priority: 7 })
      const mid2 = await producer.enqueue({ p: 'mid2' }, { priority: 0 })
      expect(high.priority).toBe(7)
      expect(mid1.priority).toBe(0)
      const consumer = await store.consumer(q)
      const got = await consumer.dequeue({ batchSize: 10 })
      expect(got.map((m) => m.id)).toEqual([high.id, mid1.id, mid2.id, low.id])
    })

    it('dedupeKey: returns the active message; a new one after it was archived', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'dedupe')
      const producer = await store.producer(q)
      const a = await producer.enqueue({ v: 1 }, { dedupeKey: 'order-7' })
      const b = await producer.enqueue({ v: 2 }, { dedupeKey: 'order-7' })
      expect(b.id).toBe(a.id)
      expect(b.payload).toEqual({ v: 1 })
      expect(a.dedupeKey).toBe('order-7')
      const other = await producer.enqueue({ v: 3 }, { dedupeKey: 'order-8' })
      expect(other.id).not.toBe(a.id)
      expect(await totalMessages(store, q)).toBe(2)
      const consumer = await store.consumer(q)
      const [m] = await consumer.dequeue()
      expect(m!.id).toBe(a.id)
      // Still active while leased: still deduplicated.
      expect((await producer.enqueue({ v: 4 }, { dedupeKey: 'order-7' })).id).toBe(a.id)
      expect(await consumer.archive(m!)).toBe(true)
      const c = await producer.enqueue({ v: 5 }, { dedupeKey: 'order-7' })
      expect(c.id).not.toBe(a.id)
      expect(c.payload).toEqual({ v: 5 })
    })

    it('maxAttempts per message: dead after that many failed deliveries', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'maxatt')
      const producer = await store.producer(q)
      const consumer = await store.consumer(q)
      const msg = await producer.enqueue({ n: 1 }, { maxAttempts: 2 })
      expect(msg.maxAttempts).toBe(2)
      const other = await freshQueue(store, 'maxatt-default')
      const dflt = await (await store.producer(other)).enqueue({ n: 2 })
      expect(dflt.maxAttempts).toBe(store.config.maxAttempts)
      const [m1] = await consumer.dequeue()
      expect(await consumer.fail(m1!, new Error('first'), { delayMs: 0 })).toBe('retried')
      const [m2] = await consumer.dequeue()
      expect(m2!.id).toBe(msg.id)
      expect(m2!.attempts).toBe(2)
      expect(await consumer.fail(m2!, new Error('second'), { delayMs: 0 })).toBe('dead')
      const dead = await getMessage(store, msg.id)
      expect(dead.deadAt).toBeInstanceOf(Date)
      expect(dead.lastError).toContain('second')
    })

    it('tx: store.transaction rolls the message back with the caller, or commits it', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'tx-store')
      const producer = await store.producer(q)
      await expect(
        store.transaction(async (tx) => {
          const m = await producer.enqueue({ n: 'rolled back' }, { tx })
          expect(m.id).toBeGreaterThan(0)
          throw new Rollback()
        }),
      ).rejects.toBeInstanceOf(Rollback)
      expect(await totalMessages(store, q)).toBe(0)
      const committed = await store.transaction(async (tx) =>
        producer.enqueue({ n: 'committed' }, { tx }),
      )
      const all = await store.messages.list(q)
      expect(all.map((m) => [m.id, m.payload])).toEqual([[committed.id, { n: 'committed' }]])
    })

    // Registered only when the harness declares a Kysely instance on the store's database.
    const itWithKysely = harness.kysely ? it : () => {}
    itWithKysely("tx: a Kysely transaction on the store's database", async () => {
      const { store } = fx
      const q = await freshQueue(store, 'tx-kysely')
      const producer = await store.producer(q)
      const db = kyselyOf(harness, store)
      await expect(
        db.transaction().execute(async (trx) => {
          await producer.enqueue({ n: 'rolled back' }, { tx: trx })
          throw new Rollback()
        }),
      ).rejects.toBeInstanceOf(Rollback)
      expect(await totalMessages(store, q)).toBe(0)
      const [a, b] = await db.transaction().execute(async (trx) => {
        const one = await producer.enqueue({ n: 1 }, { tx: trx })
        const many = await producer.enqueueMany([{ n: 2 }], { tx: trx })
        return [one, many[0]!]
      })
      expect((await store.messages.list(q)).map((m) => m.id)).toEqual([a.id, b!.id])
    })
  })
}
