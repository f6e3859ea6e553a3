import type { QueueMessage } from '@pgqrs/core'
import * as pgqrs from '@pgqrs/queue'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { CLOCK_SLACK_MS, expectTimeNear, uniqueName, useStore } from '../util.js'
import { getMessage } from './helpers.js'

/**
 * SPEC 4.1 as written: `admin().install()`, `store.queue()`, the object style
 * (`store.producer` / `store.consumer`), the builder style (`enqueue()` / `dequeue()`), named
 * producers and consumers (including the seed's three-argument `consumer(host, port, queue)`) and
 * typed payloads.
 */
export function apiSampleTests(harness: StoreHarness): void {
  describe('SPEC 4.1 samples', () => {
    const fx = useStore(harness)

    it('install is idempotent and store.queue ensures the queue', async () => {
      const { store } = fx
      await pgqrs.admin(store).install()
      await pgqrs.admin(store).install()
      const name = uniqueName('tasks')
      const q = await store.queue(name)
      expect(q).toMatchObject({ name })
      expect(q.id).toBeGreaterThan(0)
      expect((await store.queue(name)).id).toBe(q.id)
      expect((await store.queues.list()).filter((r) => r.name === name)).toHaveLength(1)
    })

    it('object style: producer.enqueue, consumer.dequeue({ batchSize: 10 }), consumer.archive', async () => {
      const { store } = fx
      const tasks = uniqueName('tasks')
      await store.queue(tasks)
      const producer = await store.producer(tasks)
      const msg = await producer.enqueue({ task: 'send_email', to: 'a@b.c' })
      expect(msg).toMatchObject({
        queue: tasks,
        payload: { task: 'send_email', to: 'a@b.c' },
        attempts: 0,
      })
      const consumer = await store.consumer(tasks)
      const messages = await consumer.dequeue({ batchSize: 10 })
      expect(messages.map((m) => m.id)).toEqual([msg.id])
      expect(messages[0]!.lease).toEqual(expect.any(String))
      expect(messages[0]!.consumerId).toBe(consumer.workerId)
      for (const m of messages) expect(await consumer.archive(m)).toBe(true)
      const archived = await getMessage(store, msg.id)
      expect(archived.archivedAt).toBeInstanceOf(Date)
      expect(await consumer.dequeue({ batchSize: 10 })).toEqual([])
    })

    it('builder style: enqueue().message().to().execute() returns ids; .messages().delay(5_000) delays them', async () => {
      const { store } = fx
      const tasks = uniqueName('tasks')
      await store.queue(tasks)
      const ids = await pgqrs.enqueue().message({ task: 'x' }).to(tasks).execute(store)
      expect(ids).toHaveLength(1)
      expect((await getMessage(store, ids[0]!)).payload).toEqual({ task: 'x' })
      const before = Date.now()
      const more = await pgqrs
        .enqueue()
        .messages([{ n: 1 }, { n: 2 }])
        .to(tasks)
        .delay(5_000)
        .execute(store)
      expect(more).toHaveLength(2)
      expect(more[0]! < more[1]!).toBe(true)
      for (const [i, id] of more.entries()) {
        const m = await getMessage(store, id)
        expect(m.payload).toEqual({ n: i + 1 })
        expectTimeNear(m.visibleAt, before + 5_000, CLOCK_SLACK_MS)
      }
      expect((await store.messages.list(tasks, { state: 'delayed' })).map((m) => m.id)).toEqual(
        more,
      )
      // Only the undelayed message is deliverable now.
      const got = await pgqrs.dequeue().from(tasks).batch(10).fetchAll(store)
      expect(got.map((m) => m.id)).toEqual(ids)
    })

    it('builder style: dequeue().from().handle(fn).execute() handles one message and archives it', async () => {
      const { store } = fx
      const tasks = uniqueName('tasks')
      await store.queue(tasks)
      const ids = await pgqrs
        .enqueue()
        .messages([{ n: 1 }, { n: 2 }])
        .to(tasks)
        .execute(store)
      const seen: QueueMessage[] = []
      const handled = await pgqrs
        .dequeue()
        .from(tasks)
        .handle(async (m) => {
          seen.push(m)
        })
        .execute(store)
      expect(seen.map((m) => m.id)).toEqual([ids[0]])
      expect(handled.map((m) => m.id)).toEqual([ids[0]])
      expect((await getMessage(store, ids[0]!)).archivedAt).toBeInstanceOf(Date)
      expect((await getMessage(store, ids[1]!)).archivedAt).toBeNull()
      expect((await getMessage(store, ids[1]!)).attempts).toBe(0)
    })

    it('builder style: a throwing .handle() fails the message (retry scheduled) and rethrows', async () => {
      const { store } = fx
      const tasks = uniqueName('tasks')
      await store.queue(tasks)
      const [id] = await pgqrs.enqueue().message({ n: 1 }).to(tasks).execute(store)
      const boom = new Error('builder handler failed')
      await expect(
        pgqrs
          .dequeue()
          .from(tasks)
          .handle(() => {
            throw boom
          })
          .execute(store),
      ).rejects.toBe(boom)
      const m = await getMessage(store, id!)
      expect(m.archivedAt).toBeNull()
      expect(m.lease).toBeNull()
      expect(m.attempts).toBe(1)
      expect(m.lastError).toContain('builder handler failed')
      // Retried after the default backoff (about 1 s), never hot.
      expect(await pgqrs.dequeue().from(tasks).fetchOne(store)).toBeNull()
    })

    it('builder style: dequeue().from().batch(10).handleBatch(fn).execute() handles up to 10 and archives them', async () => {
      const { store } = fx
      const tasks = uniqueName('tasks')
      await store.queue(tasks)
      const ids = await pgqrs
        .enqueue()
        .messages(Array.from({ length: 12 }, (_, n) => ({ n })))
        .to(tasks)
        .execute(store)
      const batches: number[][] = []
      await pgqrs
        .dequeue()
        .from(tasks)
        .batch(10)
        .handleBatch(async (ms) => {
          batches.push(ms.map((m) => m.id))
        })
        .execute(store)
      expect(batches).toEqual([ids.slice(0, 10)])
      expect(await store.messages.list(tasks, { state: 'archived' })).toHaveLength(10)
      expect((await store.messages.list(tasks, { state: 'pending' })).map((m) => m.id)).toEqual(
        ids.slice(10),
      )
    })

    it("producer('api-1', q).create(store) registers worker api-1 as the producer of its messages", async () => {
      const { store } = fx
      const tasks = uniqueName('tasks')
      const producer = await pgqrs.producer('api-1', tasks).create(store)
      expect(producer.queue).toBe(tasks)
      const w = await store.workers.getByName('api-1')
      expect(w).toMatchObject({
        name: 'api-1',
        queueId: (await store.queues.get(tasks))!.id,
        pid: process.pid,
      })
      expect(producer.workerId).toBe(w!.id)
      const msg = await producer.enqueue({ n: 1 })
      expect(msg.producerId).toBe(w!.id)
    })

    it("consumer('worker-1', q) and consumer('worker-1', 8080, q) register worker-1 and worker-1:8080", async () => {
      const { store } = fx
      const tasks = uniqueName('tasks')
      await store.queue(tasks)
      const c1 = await pgqrs.consumer('worker-1', tasks).create(store)
      const c2 = await pgqrs.consumer('worker-1', 8080, tasks).create(store)
      const w1 = await store.workers.getByName('worker-1')
      const w2 = await store.workers.getByName('worker-1:8080')
      expect(w1).not.toBeNull()
      expect(w2).not.toBeNull()
      expect(w1!.id).not.toBe(w2!.id)
      expect(c1.workerId).toBe(w1!.id)
      expect(c2.workerId).toBe(w2!.id)
      expect(c2.queue).toBe(tasks)
      const producer = await store.producer(tasks)
      await producer.enqueueMany([{ n: 1 }, { n: 2 }])
      const [a] = await c1.dequeue()
      const [b] = await c2.dequeue()
      expect(a!.consumerId).toBe(w1!.id)
      expect(b!.consumerId).toBe(w2!.id)
    })

    it('typed payloads: store.producer<{ n: number }>() and store.consumer<{ n: number }>()', async () => {
      const { store } = fx
      const q = uniqueName('typed')
      await store.queue(q)
      const producer = await store.producer<{ n: number }>(q)
      const consumer = await store.consumer<{ n: number }>(q)
      const msg = await producer.enqueue({ n: 41 })
      expectTypeOf(msg).toEqualTypeOf<QueueMessage<{ n: number }>>()
      // Compile-time only: a payload of the wrong shape is refused by the type checker.
      const wrong = () =>
        // @ts-expect-error n must be a number
        producer.enqueue({ n: 'x' })
      expect(typeof wrong).toBe('function')
      const [m] = await consumer.dequeue()
      expectTypeOf(m!.payload).toEqualTypeOf<{ n: number }>()
      const next: number = m!.payload.n + 1
      expect(next).toBe(42)
      const typedWorker = pgqrs.worker<{ n: number }>(store, q, (m2) => {
        expectTypeOf(m2.payload.n).toBeNumber()
      })
      expect(typedWorker.state).toBe('idle')
    })
  })
}
