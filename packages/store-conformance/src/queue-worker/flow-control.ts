import {
  ConflictError,
  NotFoundError,
  type QueueMessage,
  TimeoutError,
  ValidationError,
} from '@pgqrs/core'
import { admin, type HandlerContext, worker } from '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { expectError, freshQueue, rejection, sleep, useStore, waitFor } from '../util.js'
import { deferred, getMessage, workerTracker } from './helpers.js'

/**
 * Day-two queue features (issue 14): handler timeouts, results and timing, message control
 * (cancel, run now, custom backoff) and one worker over several queues.
 */
export function flowControlTests(harness: StoreHarness): void {
  describe('flow control', () => {
    const fx = useStore(harness)
    const track = workerTracker()

    it('a handler that never settles times out: retried by another worker, then dead with a TimeoutError; its late settle is refused and its slot freed', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'timeout')
      const producer = await store.producer<{ n: number }>(q)
      // the message's own timeout (500 ms) wins over worker A's 60 s
      const msg = await producer.enqueue({ n: 1 }, { maxAttempts: 2, timeoutMs: 500 })
      expect(msg.timeoutMs).toBe(500)

      const releaseA = deferred()
      const lateSettle = deferred<boolean[]>()
      let abortReason: unknown = null
      const a = track(
        worker<{ n: number }>(
          store,
          q,
          async (m: QueueMessage<{ n: number }>, ctx: HandlerContext) => {
            ctx.signal.addEventListener('abort', () => {
              abortReason = ctx.signal.reason
            })
            await releaseA.promise // ignores its signal: awaits far past the timeout
            lateSettle.resolve(await store.messages.archive([m]))
            return 'late'
          },
          // the retry waits 1 s: A is stopped by then, so another worker takes it
          {
            concurrency: 2,
            timeoutMs: 60_000,
            backoff: [1_000],
            pollIntervalMs: 50,
            leaseMs: 2_000,
          },
        ),
      )
      const failedOnA = new Promise<Error>((resolve) =>
        a.on('message:failed', (_m, e) => resolve(e)),
      )
      await a.start()
      const error = await failedOnA
      expect(TimeoutError.is(error), String(error)).toBe(true)
      expect((error as TimeoutError).timeoutMs).toBe(500)
      expect(TimeoutError.is(abortReason)).toBe(true)
      // the slot is free although the handler still runs
      expect(a.freeSlots).toBe(2)
      await waitFor(() => a.inFlight === 0)
      await a.stop({ graceMs: 0 })

      const retried = await getMessage(store, msg.id)
      expect(retried.attempts).toBe(1)
      expect(retried.lease).toBeNull()
      expect(retried.lastError).toContain('did not finish within 500 ms')

      // another worker takes the retry; its worker timeout (500 ms) applies too
      const b = track(
        worker<{ n: number }>(store, q, () => new Promise(() => {}), {
          concurrency: 3,
          timeoutMs: 500,
          backoff: [0],
          pollIntervalMs: 50,
          leaseMs: 2_000,
        }),
      )
      const deadOnB = new Promise<[QueueMessage, Error]>((resolve) =>
        b.on('message:dead', (m, e) => resolve([m, e])),
      )
      await b.start()
      const [deadMsg, deadError] = await deadOnB
      expect(deadMsg.id).toBe(msg.id)
      expect(TimeoutError.is(deadError)).toBe(true)
      expect(b.freeSlots).toBe(3)
      await waitFor(() => b.inFlight === 0)

      // the first handler settles at last: the fence refuses it, and nothing changes
      releaseA.resolve()
      expect(await lateSettle.promise).toEqual([false])
      const dead = await getMessage(store, msg.id)
      expect(dead.deadAt).not.toBeNull()
      expect(dead.attempts).toBe(2)
      expect(dead.lastError).toContain('TimeoutError')
      await b.stop({ graceMs: 0 })
    })

    it('a handler that finishes within its timeout is archived as usual', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'timeout-ok')
      const m = (await store.messages.enqueue(q, [{ payload: 1 }]))[0]!
      const w = track(
        worker(store, q, async () => sleep(20), { timeoutMs: 5_000, pollIntervalMs: 50 }),
      )
      const done = new Promise<void>((resolve) => w.on('message:done', () => resolve()))
      await w.start()
      await done
      await w.stop()
      expect((await getMessage(store, m.id)).archivedAt).not.toBeNull()
    })

    it('timeoutMs is validated at enqueue and in worker options', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'timeout-bad')
      const producer = await store.producer(q)
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        expectError(
          await rejection(producer.enqueue(1, { timeoutMs: bad })),
          ValidationError,
          'VALIDATION',
          'timeoutMs',
        )
        expect(() => worker(store, q, async () => {}, { timeoutMs: bad })).toThrow(/timeoutMs/)
      }
      expect(await store.messages.list(q)).toEqual([])
    })

    it('stores the handler result with start and finish times and attempts (admin.message)', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'result')
      const [m1, m2] = await store.messages.enqueue(q, [{ payload: 1 }, { payload: 2 }])
      const w = track(
        worker<number>(
          store,
          q,
          async (m) => {
            await sleep(30)
            return m.payload === 1 ? { doubled: 2, tags: ['a'] } : undefined
          },
          { pollIntervalMs: 50, concurrency: 2 },
        ),
      )
      let done = 0
      w.on('message:done', () => done++)
      await w.start()
      await waitFor(() => done === 2)
      await w.stop()
      const got = await admin(store).message(m1!.id)
      expect(got.result).toEqual({ doubled: 2, tags: ['a'] })
      expect(got.attempts).toBe(1)
      expect(got.startedAt).toBeInstanceOf(Date)
      expect(got.finishedAt).toEqual(got.archivedAt)
      const took = got.finishedAt!.getTime() - got.startedAt!.getTime()
      expect(took).toBeGreaterThanOrEqual(25) // the handler slept 30 ms (database clock, ms granularity)
      expect(took).toBeLessThan(10_000)
      const none = await admin(store).message(m2!.id)
      expect(none.result).toBeUndefined()
      expect(none.startedAt).toBeInstanceOf(Date)
      expectError(await rejection(admin(store).message(987_654_321)), NotFoundError, 'NOT_FOUND')
    })

    it('a result that is not JSON fails the delivery with a ValidationError', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'result-bad')
      const [m] = await store.messages.enqueue(q, [{ payload: 1, maxAttempts: 1 }])
      const w = track(worker(store, q, async () => ({ n: 10n }), { pollIntervalMs: 50 }))
      const dead = new Promise<Error>((resolve) => w.on('message:dead', (_m, e) => resolve(e)))
      await w.start()
      expect(ValidationError.is(await dead)).toBe(true)
      await w.stop()
      expect((await getMessage(store, m!.id)).lastError).toContain('BigInt')
    })

    it('handlerMetrics: handled, dead and failed counts and p50/p95 over a window', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'metrics')
      await store.messages.enqueue(
        q,
        Array.from({ length: 10 }, (_, n) => ({ payload: n, maxAttempts: n === 9 ? 1 : 3 })),
      )
      const failedOnce = new Set<number>()
      const w = track(
        worker<number>(
          store,
          q,
          async (m) => {
            if (m.payload === 9) throw new Error('always')
            if (m.payload < 3 && !failedOnce.has(m.payload)) {
              failedOnce.add(m.payload)
              throw new Error('once')
            }
            await sleep(m.payload < 5 ? 10 : 60)
          },
          { concurrency: 4, pollIntervalMs: 20, backoff: [0] },
        ),
      )
      let finished = 0
      w.on('message:done', () => finished++)
      w.on('message:dead', () => finished++)
      await w.start()
      await waitFor(() => finished === 10)
      await w.stop()
      const m = await admin(store).handlerMetrics(q, { windowMs: 60_000 })
      expect(m).toMatchObject({ queue: q, windowMs: 60_000, handled: 9, dead: 1, failed: 4 })
      expect(m.p50Ms).toBeGreaterThanOrEqual(5)
      expect(m.p95Ms).toBeGreaterThanOrEqual(50)
      expect(m.p95Ms!).toBeGreaterThanOrEqual(m.p50Ms!)
      expectError(
        await rejection(admin(store).handlerMetrics('no-such-queue')),
        NotFoundError,
        'QUEUE_NOT_FOUND',
      )
    })

    it('cancelMessage: a pending or delayed message is never delivered; leased or settled ones are refused', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'cancel')
      const [pending, delayed, leased] = await store.messages.enqueue(q, [
        { payload: 'p' },
        { payload: 'd', delayMs: 60_000 },
        { payload: 'l', priority: 10 },
      ])
      const [claimed] = await store.messages.dequeue(q, { batchSize: 1, leaseMs: 30_000 })
      expect(claimed!.id).toBe(leased!.id)
      const a = admin(store)
      expect((await a.cancelMessage(delayed!.id)).payload).toBe('d')
      expect((await a.cancelMessage(pending!.id)).id).toBe(pending!.id)
      expect(await store.messages.get(pending!.id)).toBeNull()
      expect(await store.messages.get(delayed!.id)).toBeNull()
      expectError(await rejection(a.cancelMessage(leased!.id)), ConflictError, 'CONFLICT', 'leased')
      expect((await getMessage(store, leased!.id)).lease).toBe(claimed!.lease)
      await store.messages.archive([claimed!])
      expectError(
        await rejection(a.cancelMessage(leased!.id)),
        ConflictError,
        'CONFLICT',
        'archived',
      )
      expectError(await rejection(a.cancelMessage(987_654_321)), NotFoundError, 'NOT_FOUND')
      expect(await store.messages.dequeue(q, { batchSize: 10, leaseMs: 1_000 })).toEqual([])
    })

    it('custom backoff (a list of delays, a function) and retryNow run a backing-off message now', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'backoff')
      const [m] = await store.messages.enqueue(q, [{ payload: 1 }])
      const seen: [number, string][] = []
      let calls = 0
      const w = track(
        worker(
          store,
          q,
          async () => {
            if (++calls === 1) throw new Error('first try fails')
          },
          {
            pollIntervalMs: 50,
            backoff: (attempt, error) => {
              seen.push([attempt, error.message])
              return 3_600_000
            },
          },
        ),
      )
      const failed = new Promise<void>((resolve) => w.on('message:failed', () => resolve()))
      const done = new Promise<void>((resolve) => w.on('message:done', () => resolve()))
      await w.start()
      await failed
      expect(seen).toEqual([[1, 'first try fails']])
      const waiting = await getMessage(store, m!.id)
      expect(waiting.visibleAt.getTime() - Date.now()).toBeGreaterThan(3_000_000)
      const now = await admin(store).retryNow(m!.id)
      expect(now.attempts).toBe(1)
      await done
      await w.stop()
      expect((await getMessage(store, m!.id)).archivedAt).not.toBeNull()
      expectError(await rejection(admin(store).retryNow(m!.id)), ConflictError, 'CONFLICT')
      expectError(await rejection(admin(store).retryNow(987_654_321)), NotFoundError, 'NOT_FOUND')

      // pqrun's schedule as a list: 1 m, 5 m, 30 m, 2 h, 6 h, then 6 h again
      const consumer = await store.consumer(q)
      const schedule = [60_000, 300_000, 1_800_000, 7_200_000, 21_600_000]
      const [s] = await store.messages.enqueue(q, [{ payload: 'schedule', maxAttempts: 10 }])
      for (const expected of [...schedule, 21_600_000]) {
        await admin(store)
          .retryNow(s!.id)
          .catch(() => {})
        const [got] = await consumer.dequeue({ leaseMs: 30_000 })
        expect(got!.id).toBe(s!.id)
        const before = Date.now()
        expect(await consumer.fail(got!, new Error('x'), { backoff: schedule })).toBe('retried')
        const wait = (await getMessage(store, s!.id)).visibleAt.getTime() - before
        expect(Math.abs(wait - expected)).toBeLessThan(5_000)
      }
    })

    it('one worker over several queues claims across them by priority, then age, each with its handler', async () => {
      const { store } = fx
      const qa = await freshQueue(store, 'multi-a')
      const qb = await freshQueue(store, 'multi-b')
      await store.messages.enqueue(qa, [{ payload: 'a1' }])
      await sleep(5)
      await store.messages.enqueue(qb, [{ payload: 'b1' }, { payload: 'b-urgent', priority: 5 }])
      await sleep(5)
      await store.messages.enqueue(qa, [{ payload: 'a2' }])
      const order: string[] = []
      const w = track(
        worker(
          store,
          {
            [qa]: async (m: QueueMessage) => {
              expect(m.queue).toBe(qa)
              order.push(String(m.payload))
              return `A:${m.payload}`
            },
            [qb]: async (m: QueueMessage) => {
              expect(m.queue).toBe(qb)
              order.push(String(m.payload))
            },
          },
          { concurrency: 1, batchSize: 1, pollIntervalMs: 50 },
        ),
      )
      expect(w.queues).toEqual([qa, qb])
      await w.start()
      await waitFor(() => order.length === 4)
      // a message enqueued after start wakes it on its second queue too
      await (await store.producer(qb)).enqueue('b-late')
      await waitFor(() => order.length === 5, { timeoutMs: 3_000 })
      await w.stop()
      expect(order).toEqual(['b-urgent', 'a1', 'b1', 'a2', 'b-late'])
      const a1 = (await store.messages.list(qa, { state: 'archived' })).find(
        (m) => m.payload === 'a1',
      )
      expect((await admin(store).message(a1!.id)).result).toBe('A:a1')
      expect(() => worker(store, {}, {})).toThrow(/1 to 100 queues/)
      expect(() => worker(store, { 'bad name': async () => {} })).toThrow(/queue/)
    })
  })
}
