import {
  BackoffStrategy,
  ConflictError,
  InvalidStateTransitionError,
  type QueueMessage,
  type Store,
} from '@pgqrs/core'
import {
  admin,
  dequeue,
  type HandlerContext,
  type Worker,
  type WorkerEvents,
  worker,
} from '@pgqrs/queue'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import {
  expectError,
  freshQueue,
  rejection,
  sleep,
  uniqueName,
  useStore,
  waitFor,
} from '../util.js'
import { claimAllAsProbe, deferred, getMessage, patchDequeue, workerTracker } from './helpers.js'

type Payload = { n: number }

async function enqueueN(store: Store, queue: string, count: number): Promise<number[]> {
  const producer = await store.producer<Payload>(queue)
  const out: number[] = []
  for (let start = 0; start < count; start += 500) {
    const batch = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({ n: start + i }))
    out.push(...(await producer.enqueueMany(batch)).map((m) => m.id))
  }
  return out
}

/** Messages of `queue` leased by the worker `w` right now. */
async function leasedBy(store: Store, queue: string, w: Worker<any>): Promise<number[]> {
  const leased = await store.messages.list(queue, { state: 'leased', limit: 1000 })
  return leased.filter((m) => m.consumerId === w.record?.id).map((m) => m.id)
}

/**
 * The worker loop (`worker(store, queue, handler, options)`): draining with concurrency, handler
 * errors, automatic lease renewal, heartbeats, graceful and forced stop, events, control from the
 * registry (suspend / resume / interrupt), registry transitions and worker identities.
 */
export function workerLoopTests(harness: StoreHarness): void {
  describe('worker loop', () => {
    const fx = useStore(harness)
    const track = workerTracker()

    it('drains 300 messages with concurrency 8 and batchSize 16: each handled exactly once', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'drain')
      const ids = await enqueueN(store, q, 300)
      const handled = new Map<number, number>()
      let running = 0
      let maxRunning = 0
      const w = track(
        worker<Payload>(
          store,
          q,
          async (m) => {
            handled.set(m.id, (handled.get(m.id) ?? 0) + 1)
            running++
            maxRunning = Math.max(maxRunning, running)
            await sleep(2)
            running--
          },
          { concurrency: 8, batchSize: 16, pollIntervalMs: 20, leaseMs: 10_000 },
        ),
      )
      const done: number[] = []
      w.on('message:done', (m) => done.push(m.id))
      await w.start()
      await waitFor(() => done.length >= ids.length, {
        timeoutMs: 20_000,
        what: 'all 300 messages done',
      })
      await w.stop()
      expect([...handled.keys()].sort((a, b) => a - b)).toEqual(ids)
      expect([...handled.values()].every((c) => c === 1)).toBe(true)
      expect(done).toHaveLength(ids.length)
      expect(maxRunning).toBeLessThanOrEqual(8)
      expect(maxRunning, 'handlers should run concurrently').toBeGreaterThan(1)
      const metrics = await store.queues.metrics(q)
      expect(metrics).toMatchObject({ pending: 0, leased: 0, delayed: 0, dead: 0, archived: 300 })
      await track.stopAll()
    })

    it("onSuccess: 'delete' deletes handled messages instead of archiving them; failures still retry and die", async () => {
      const { store } = fx
      const q = await freshQueue(store, 'drain-delete')
      const producer = await store.producer<Payload>(q)
      const ok = await enqueueN(store, q, 120)
      const [bad] = await producer.enqueueMany([{ n: -1 }], { maxAttempts: 2 })
      const done: number[] = []
      const dead: number[] = []
      const w = track(
        worker<Payload>(
          store,
          q,
          async (m) => {
            if (m.payload.n < 0) throw new Error('always fails')
          },
          {
            concurrency: 10,
            batchSize: 10,
            pollIntervalMs: 20,
            onSuccess: 'delete',
            backoff: BackoffStrategy.fixed(10),
          },
        ),
      )
      w.on('message:done', (m) => done.push(m.id))
      w.on('message:dead', (m) => dead.push(m.id))
      await w.start()
      await waitFor(() => done.length >= ok.length && dead.length === 1, {
        timeoutMs: 20_000,
        what: '120 messages done and one dead',
      })
      await w.stop()
      expect(done.sort((a, b) => a - b)).toEqual(ok)
      expect(dead).toEqual([bad!.id])
      for (const id of ok.slice(0, 5)) expect(await store.messages.get(id)).toBeNull()
      expect((await store.messages.get(bad!.id))?.deadAt).toBeInstanceOf(Date)
      expect(await store.queues.metrics(q)).toMatchObject({
        pending: 0,
        leased: 0,
        archived: 0,
        dead: 1,
      })
      expect(() => worker(store, q, () => {}, { onSuccess: 'keep' as 'delete' })).toThrow(
        /onSuccess.*'archive' or 'delete'/,
      )
      await track.stopAll()
    })

    it('a handler error never stops the loop: failed, retried, dead after maxAttempts; the rest is processed', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'errors')
      const producer = await store.producer<Payload>(q)
      const good = await producer.enqueueMany([{ n: 0 }, { n: 1 }, { n: 2 }])
      const bad = await producer.enqueue({ n: 99 }, { maxAttempts: 2 })
      const calls = new Map<number, number>()
      const w = track(
        worker<Payload>(
          store,
          q,
          (m) => {
            calls.set(m.id, (calls.get(m.id) ?? 0) + 1)
            if (m.payload.n === 99) throw new Error(`handler rejects n=${m.payload.n}`)
          },
          {
            concurrency: 2,
            pollIntervalMs: 20,
            backoff: BackoffStrategy.fixed(50),
            leaseMs: 5_000,
          },
        ),
      )
      const failed: [number, Error][] = []
      const dead: [number, Error][] = []
      const doneIds: number[] = []
      w.on('message:failed', (m, e) => failed.push([m.id, e]))
      w.on('message:dead', (m, e) => dead.push([m.id, e]))
      w.on('message:done', (m) => doneIds.push(m.id))
      await w.start()
      await waitFor(() => dead.length === 1 && doneIds.length === 3, {
        what: 'the bad message dead, the rest done',
      })
      expect(failed.map(([id]) => id)).toEqual([bad.id])
      expect(failed[0]![1].message).toBe('handler rejects n=99')
      expect(dead.map(([id]) => id)).toEqual([bad.id])
      expect(dead[0]![1]).toBeInstanceOf(Error)
      expect(calls.get(bad.id)).toBe(2)
      expect(doneIds.sort((a, b) => a - b)).toEqual(good.map((m) => m.id))
      const m = await getMessage(store, bad.id)
      expect(m.deadAt).toBeInstanceOf(Date)
      expect(m.lastError).toContain('handler rejects n=99')
      // Still running after the dead letter.
      expect(w.state).toBe('running')
      const late = await producer.enqueue({ n: 5 })
      await waitFor(() => doneIds.includes(late.id), {
        what: 'a message enqueued after the failures',
      })
      await w.stop()
      await track.stopAll()
    })

    it('renews the lease of a handler that runs 3x the lease: not redelivered, archived once', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'renew')
      const producer = await store.producer<Payload>(q)
      const started = deferred()
      let calls = 0
      const a = track(
        worker<Payload>(
          store,
          q,
          async () => {
            calls++
            started.resolve()
            await sleep(900)
          },
          { leaseMs: 300, pollIntervalMs: 20 },
        ),
      )
      const lost: number[] = []
      a.on('lease:lost', (m) => lost.push(m.id))
      const doneA: number[] = []
      a.on('message:done', (m) => doneA.push(m.id))
      await a.start()
      const msg = await producer.enqueue({ n: 1 })
      await started.promise
      const otherCalls: number[] = []
      const b = track(
        worker<Payload>(store, q, (m) => void otherCalls.push(m.id), {
          leaseMs: 300,
          pollIntervalMs: 20,
        }),
      )
      await b.start()
      await waitFor(() => doneA.length === 1, { what: 'the long handler to finish' })
      await Promise.all([a.stop(), b.stop()])
      expect(calls).toBe(1)
      expect(otherCalls, 'redelivered to another worker while its handler ran').toEqual([])
      expect(lost).toEqual([])
      const m = await getMessage(store, msg.id)
      expect(m.archivedAt).toBeInstanceOf(Date)
      expect(m.attempts).toBe(1)
      await track.stopAll()
    })

    it('heartbeats while a handler runs', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'heartbeat')
      const producer = await store.producer<Payload>(q)
      const beats: number[] = []
      const w = track(
        worker<Payload>(
          store,
          q,
          async (_m, ctx) => {
            const id = ctx.worker.record!.id
            const until = Date.now() + 700
            while (Date.now() < until) {
              beats.push((await store.workers.get(id))!.heartbeatAt.getTime())
              await sleep(50)
            }
          },
          { heartbeatIntervalMs: 100, pollIntervalMs: 20, leaseMs: 5_000 },
        ),
      )
      const done = deferred()
      w.on('message:done', () => done.resolve())
      await w.start()
      await producer.enqueue({ n: 1 })
      await done.promise
      await w.stop()
      const distinct = new Set(beats)
      expect(
        distinct.size,
        `heartbeats seen during a 700 ms handler: ${[...distinct].join(', ')}`,
      ).toBeGreaterThanOrEqual(4)
      expect(beats.at(-1)! - beats[0]!).toBeGreaterThanOrEqual(300)
      await track.stopAll()
    })

    it('stop() during a burst: finishes in-flight handlers, holds no lease, state and record stopped', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'burst')
      const ids = await enqueueN(store, q, 120)
      const starts: number[] = []
      const w = track(
        worker<Payload>(
          store,
          q,
          async (m) => {
            starts.push(m.id)
            await sleep(15 + (m.payload.n % 4) * 10)
          },
          { concurrency: 8, batchSize: 16, pollIntervalMs: 20, leaseMs: 10_000, graceMs: 5_000 },
        ),
      )
      const done: number[] = []
      w.on('message:done', (m) => done.push(m.id))
      let stoppedEvents = 0
      w.on('stopped', () => stoppedEvents++)
      await w.start()
      await waitFor(() => done.length >= 20)
      await w.stop()
      expect(w.state).toBe('stopped')
      expect(w.inFlight).toBe(0)
      expect(stoppedEvents).toBe(1)
      expect(await leasedBy(store, q, w)).toEqual([])
      expect((await store.workers.get(w.record!.id))?.status).toBe('stopped')
      expect(done.length).toBeLessThan(ids.length)
      expect([...done].sort()).toEqual([...starts].sort())
      const afterStop = starts.length
      // every message the worker did not finish is claimable by a probe: the stopped worker holds none
      expect(await claimAllAsProbe(store, q)).toHaveLength(ids.length - done.length)
      expect(starts.length, 'handlers started after stop() resolved').toBe(afterStop)
      const metrics = await store.queues.metrics(q)
      expect(metrics).toMatchObject({
        archived: done.length,
        pending: ids.length - done.length,
        leased: 0,
      })
      await w.stop() // safe twice
      await track.stopAll()
    })

    it('stop({ graceMs: 100 }) aborts a handler that ignores its signal and releases its message', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'grace')
      const producer = await store.producer<Payload>(q)
      const started = deferred<HandlerContext>()
      const finished = deferred()
      const w = track(
        worker<Payload>(
          store,
          q,
          async (_m, ctx) => {
            started.resolve(ctx)
            await sleep(900) // ignores ctx.signal
            finished.resolve()
          },
          { pollIntervalMs: 20, leaseMs: 10_000 },
        ),
      )
      const doneEvents: number[] = []
      w.on('message:done', (m) => doneEvents.push(m.id))
      await w.start()
      const msg = await producer.enqueue({ n: 1 })
      const ctx = await started.promise
      expect(ctx.signal.aborted).toBe(false)
      let handlerFinished = false
      void finished.promise.then(() => {
        handlerFinished = true
      })
      await w.stop({ graceMs: 100 })
      expect(handlerFinished, 'stop() waited for the handler instead of aborting it').toBe(false)
      expect(ctx.signal.aborted).toBe(true)
      expect(w.state).toBe('stopped')
      const released = await getMessage(store, msg.id)
      expect(released).toMatchObject({ lease: null, attempts: 0, archivedAt: null })
      const consumer = await store.consumer<Payload>(q)
      const [again] = await consumer.dequeue({ leaseMs: 30_000 })
      expect(again).toMatchObject({ id: msg.id, attempts: 1 })
      // The abandoned handler finishing later must not settle the message of its new holder: its
      // entry leaves the worker once the handler's continuation ran, and nothing was settled.
      await finished.promise
      await waitFor(() => w.inFlight === 0, { what: 'the abandoned handler to finish' })
      expect(doneEvents).toEqual([])
      expect((await getMessage(store, msg.id)).lease).toBe(again!.lease)
      expect(await consumer.archive(again!)).toBe(true)
      await track.stopAll()
    })

    it('a lost lease aborts ctx.signal and emits lease:lost; the worker leaves the message to its new holder', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'lease-lost')
      const producer = await store.producer<Payload>(q)
      const started = deferred<HandlerContext>()
      const w = track(
        worker<Payload>(
          store,
          q,
          async (_m, ctx) => {
            started.resolve(ctx)
            await new Promise<void>((resolve) => {
              ctx.signal.addEventListener('abort', () => resolve(), { once: true })
              setTimeout(resolve, 3_000)
            })
          },
          { leaseMs: 200, pollIntervalMs: 20 },
        ),
      )
      const lost: number[] = []
      const settled: string[] = []
      w.on('lease:lost', (m) => lost.push(m.id))
      w.on('message:done', () => settled.push('done'))
      w.on('message:failed', () => settled.push('failed'))
      w.on('message:dead', () => settled.push('dead'))
      await w.start()
      const msg = await producer.enqueue({ n: 1 })
      const ctx = await started.promise
      expect(await ctx.extendLease(5_000)).toBe(true)
      // Take the message away from the worker: release it with its current token, then lease it anew.
      const held = await getMessage(store, msg.id)
      expect(await store.messages.release([held])).toEqual([true])
      const consumer = await store.consumer<Payload>(q)
      const [mine] = await consumer.dequeue({ leaseMs: 30_000 })
      expect(mine?.id).toBe(msg.id)
      await waitFor(() => ctx.signal.aborted, {
        what: 'the handler signal to abort after the lease was lost',
      })
      await waitFor(() => lost.length === 1)
      expect(lost).toEqual([msg.id])
      expect(await ctx.extendLease(5_000)).toBe(false)
      await waitFor(() => w.inFlight === 0)
      expect(settled).toEqual([])
      expect((await getMessage(store, msg.id)).lease).toBe(mine!.lease)
      await w.stop()
      expect(await consumer.archive(mine!)).toBe(true)
      await track.stopAll()
    })

    /** Makes the first `failures` dequeues of `queue` reject; returns their times and a restore. */
    function failDequeues(store: Store, queue: string, failures: number) {
      const calls: number[] = []
      const restore = patchDequeue(store, (original) => (q, options) => {
        if (q === queue) {
          calls.push(Date.now())
          if (calls.length <= failures)
            return Promise.reject(new Error(`injected store failure ${calls.length}`))
        }
        return original(q, options)
      })
      return {
        calls,
        restore,
        gaps: () => calls.slice(1, failures + 1).map((t, i) => t - calls[i]!),
      }
    }

    it('store errors are reported as error events with growing backoff, never thrown out of the loop', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'store-errors')
      await (await store.producer<Payload>(q)).enqueue({ n: 5 })
      const inject = failDequeues(store, q, 4)
      try {
        const handled: number[] = []
        const w = track(
          worker<Payload>(store, q, (m) => void handled.push(m.payload.n), {
            pollIntervalMs: 20,
            errorBackoffMs: 40,
            maxErrorBackoffMs: 100,
          }),
        )
        const errors: string[] = []
        w.on('error', (e) => errors.push(e.message))
        await w.start()
        await waitFor(() => handled.length === 1, { what: 'the message after the store recovered' })
        expect(errors).toEqual([1, 2, 3, 4].map((i) => `injected store failure ${i}`))
        const gaps = inject.gaps()
        expect(gaps[0], `gaps between failing polls: ${gaps.join(', ')}`).toBeGreaterThanOrEqual(35)
        expect(gaps[1]).toBeGreaterThanOrEqual(75)
        expect(gaps[2], 'capped at maxErrorBackoffMs').toBeGreaterThanOrEqual(95)
        expect(gaps[2]).toBeLessThan(400)
        expect(w.state).toBe('running')
        await w.stop()
      } finally {
        inject.restore()
      }
      await track.stopAll()
    })

    it('wake-ups (enqueues) do not cut the store-error backoff short', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'store-errors-nudged')
      const producer = await store.producer<Payload>(q)
      const inject = failDequeues(store, q, 3)
      try {
        const handled: number[] = []
        const w = track(
          worker<Payload>(store, q, (m) => void handled.push(m.payload.n), {
            pollIntervalMs: 20,
            errorBackoffMs: 150,
            maxErrorBackoffMs: 150,
          }),
        )
        w.on('error', () => {})
        await w.start()
        for (let n = 0; n < 6; n++) {
          await producer.enqueue({ n })
          await sleep(30)
        }
        await waitFor(() => handled.length === 6)
        const gaps = inject.gaps()
        expect(
          Math.min(...gaps),
          `gaps between failing polls with enqueues in between: ${gaps.join(', ')} (errorBackoffMs 150)`,
        ).toBeGreaterThanOrEqual(140)
        await w.stop()
      } finally {
        inject.restore()
      }
      await track.stopAll()
    })

    it('aborting options.signal stops the worker like stop()', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'signal')
      const ac = new AbortController()
      const handled: number[] = []
      const w = track(
        worker<Payload>(store, q, (m) => void handled.push(m.payload.n), {
          signal: ac.signal,
          pollIntervalMs: 20,
        }),
      )
      const stopped = deferred()
      w.on('stopped', () => stopped.resolve())
      await w.start()
      await (await store.producer<Payload>(q)).enqueue({ n: 1 })
      await waitFor(() => handled.length === 1)
      ac.abort()
      await stopped.promise
      expect(w.state).toBe('stopped')
      expect((await store.workers.get(w.record!.id))?.status).toBe('stopped')
      await track.stopAll()
    })

    it('a signal aborted before the worker is created: the worker never leases', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'signal-aborted')
      await (await store.producer<Payload>(q)).enqueue({ n: 1 })
      const ac = new AbortController()
      ac.abort()
      const handled: number[] = []
      const w = track(
        worker<Payload>(store, q, (m) => void handled.push(m.payload.n), {
          signal: ac.signal,
          pollIntervalMs: 20,
        }),
      )
      await w.start().catch(() => {})
      expect(
        await claimAllAsProbe(store, q),
        'the message is free: the worker leased nothing',
      ).toHaveLength(1)
      expect(handled, 'a worker with an aborted signal handled messages').toEqual([])
      expect(w.state).toBe('stopped')
      expect((await store.queues.metrics(q))?.pending).toBe(1)
      await track.stopAll()
    })

    it('dequeue().signal(alreadyAborted).poll(store) resolves at once and handles nothing', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'poll-aborted')
      await (await store.producer<Payload>(q)).enqueue({ n: 1 })
      const ac = new AbortController()
      ac.abort()
      const handled: number[] = []
      await dequeue()
        .from(q)
        .handle(async (m) => void handled.push((m.payload as Payload).n))
        .signal(ac.signal)
        .poll(store)
      expect(handled).toEqual([])
      expect(await claimAllAsProbe(store, q)).toHaveLength(1)
    })

    it('stop() while start() is still registering leaves nothing running and the name reusable', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'stop-during-start')
      const name = uniqueName('early-stop')
      const handled: number[] = []
      const w = track(
        worker<Payload>(store, q, (m) => void handled.push(m.payload.n), {
          name,
          pollIntervalMs: 20,
        }),
      )
      const starting = w.start().then(
        () => 'started',
        () => 'rejected',
      )
      await w.stop()
      await starting
      await (await store.producer<Payload>(q)).enqueue({ n: 1 })
      expect(
        await claimAllAsProbe(store, q),
        'the message is free: the stopped worker leased nothing',
      ).toHaveLength(1)
      expect(handled, 'a stopped worker handled a message').toEqual([])
      expect(w.state).toBe('stopped')
      const row = await store.workers.getByName(name)
      expect(row === null || row.status === 'stopped', `registry row left ${row?.status}`).toBe(
        true,
      )
      const again = track(worker(store, q, () => {}, { name, pollIntervalMs: 20 }))
      await again.start()
      await again.stop()
      await track.stopAll()
    })

    it('dequeue().poll() runs a loop until its signal aborts', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'poll')
      const producer = await store.producer<Payload>(q)
      await producer.enqueueMany([{ n: 1 }, { n: 2 }, { n: 3 }])
      const ac = new AbortController()
      const seen: number[] = []
      const polling = dequeue()
        .from(q)
        .signal(ac.signal)
        .options({ pollIntervalMs: 20 })
        .handle<Payload>(async (m) => {
          seen.push(m.payload.n)
        })
        .poll(store)
      await waitFor(() => seen.length === 3)
      await producer.enqueue({ n: 4 })
      await waitFor(() => seen.length === 4)
      ac.abort()
      await polling
      expect(seen.sort()).toEqual([1, 2, 3, 4])
      expect(await store.queues.metrics(q)).toMatchObject({ archived: 4, pending: 0, leased: 0 })
    })

    it('dequeue().options({ signal }).poll() also stops when that signal aborts', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'poll-options-signal')
      const name = uniqueName('poll-options')
      const ac = new AbortController()
      const seen: number[] = []
      const polling = dequeue()
        .from(q)
        .options({ name, signal: ac.signal, pollIntervalMs: 20, heartbeatIntervalMs: 50 })
        .handle<Payload>((m) => void seen.push(m.payload.n))
        .poll(store)
      await (await store.producer<Payload>(q)).enqueue({ n: 1 })
      await waitFor(() => seen.length === 1)
      ac.abort()
      const outcome = await Promise.race([
        polling.then(() => 'stopped'),
        sleep(1_500).then(() => 'still running'),
      ])
      if (outcome !== 'stopped') {
        // Clean up through the registry, then report.
        await admin(store)
          .interruptWorker(name)
          .catch(() => {})
        await polling
      }
      expect(outcome, 'poll() ignored the signal passed through .options()').toBe('stopped')
    })

    it('events are typed and fire start → done', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'events')
      const w = track(worker<Payload>(store, q, () => {}, { pollIntervalMs: 20 }))
      expectTypeOf<WorkerEvents<Payload>['message:failed']>().toEqualTypeOf<
        [msg: QueueMessage<Payload>, error: Error]
      >()
      const order: string[] = []
      w.on('message:start', (m) => {
        expectTypeOf(m).toEqualTypeOf<QueueMessage<Payload>>()
        order.push(`start:${m.payload.n}`)
      })
      w.on('message:done', (m) => order.push(`done:${m.payload.n}`))
      w.on('message:dead', (m, e) => {
        expectTypeOf(e).toEqualTypeOf<Error>()
        order.push(`dead:${m.id}`)
      })
      w.on('stopped', () => order.push('stopped'))
      // @ts-expect-error not a worker event
      const bogus = () => w.on('message:bogus', () => {})
      expect(typeof bogus).toBe('function')
      await w.start()
      await (await store.producer<Payload>(q)).enqueue({ n: 7 })
      await waitFor(() => order.includes('done:7'))
      await w.stop()
      expect(order).toEqual(['start:7', 'done:7', 'stopped'])
      await track.stopAll()
    })

    it('admin.suspendWorker stops leasing within ~2 heartbeats; resumeWorker resumes', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'suspend')
      const name = uniqueName('suspendable')
      const handled: number[] = []
      const w = track(
        worker<Payload>(store, q, (m) => void handled.push(m.payload.n), {
          name,
          heartbeatIntervalMs: 100,
          pollIntervalMs: 20,
        }),
      )
      await w.start()
      expect((await store.workers.getByName(name))?.status).toBe('polling')
      const suspended = new Promise<void>((resolve) => w.once('suspended', () => resolve()))
      expect((await admin(store).suspendWorker(name)).status).toBe('suspended')
      await suspended // the loop saw it (at its next heartbeat)
      const producer = await store.producer<Payload>(q)
      await producer.enqueueMany([{ n: 1 }, { n: 2 }, { n: 3 }])
      // a probe claims all three: the suspended worker leased none of them
      expect(await claimAllAsProbe(store, q)).toHaveLength(3)
      expect(handled, 'a suspended worker leased messages').toEqual([])
      const resumed = new Promise<void>((resolve) => w.once('resumed', () => resolve()))
      expect((await admin(store).resumeWorker(name)).status).toBe('ready')
      await resumed
      await waitFor(() => handled.length === 3, {
        what: 'the resumed worker to handle the messages',
      })
      expect(handled.sort()).toEqual([1, 2, 3])
      await waitFor(async () => (await store.workers.getByName(name))?.status === 'polling')
      await w.stop()
      expect((await store.workers.getByName(name))?.status).toBe('stopped')
      await track.stopAll()
    })

    it('stop() of a suspended worker leaves its record stopped', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'suspend-stop')
      const name = uniqueName('suspended-stop')
      const w = track(
        worker(store, q, () => {}, { name, heartbeatIntervalMs: 100, pollIntervalMs: 20 }),
      )
      await w.start()
      await admin(store).suspendWorker(name)
      await sleep(250)
      await w.stop()
      expect(w.state).toBe('stopped')
      expect((await store.workers.getByName(name))?.status).toBe('stopped')
      await track.stopAll()
    })

    it('admin.interruptWorker makes the loop stop', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'interrupt')
      const name = uniqueName('interruptible')
      const w = track(
        worker(store, q, () => {}, { name, heartbeatIntervalMs: 100, pollIntervalMs: 20 }),
      )
      const stopped = deferred()
      w.on('stopped', () => stopped.resolve())
      await w.start()
      expect((await admin(store).interruptWorker(name)).status).toBe('interrupted')
      await stopped.promise
      expect(w.state).toBe('stopped')
      expect((await store.workers.getByName(name))?.status).toBe('stopped')
      // It leases nothing any more: a probe finds the new message free.
      await (await store.producer(q)).enqueue({ n: 1 })
      expect(await claimAllAsProbe(store, q)).toHaveLength(1)
      await track.stopAll()
    })

    it('registry transitions: illegal moves throw InvalidStateTransitionError {from, to} and change nothing', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'transitions')
      const name = uniqueName('transitions')
      const w = track(
        worker(store, q, () => {}, { name, heartbeatIntervalMs: 100, pollIntervalMs: 20 }),
      )
      await w.start()
      const e1 = expectError(
        await rejection(admin(store).shutdownWorker(name)),
        InvalidStateTransitionError,
        'INVALID_STATE_TRANSITION',
        'polling',
        'stopped',
      )
      expect({ from: e1.from, to: e1.to }).toEqual({ from: 'polling', to: 'stopped' })
      expect((await store.workers.getByName(name))?.status).toBe('polling')
      await admin(store).suspendWorker(name)
      const e2 = expectError(
        await rejection(admin(store).interruptWorker(name)),
        InvalidStateTransitionError,
        'INVALID_STATE_TRANSITION',
      )
      expect({ from: e2.from, to: e2.to }).toEqual({ from: 'suspended', to: 'interrupted' })
      expect((await store.workers.getByName(name))?.status).toBe('suspended')
      expect((await admin(store).resumeWorker(name)).status).toBe('ready')
      await w.stop()
      const record = await store.workers.getByName(name)
      expect(record?.status).toBe('stopped')
      const e3 = expectError(
        await rejection(admin(store).resumeWorker(name)),
        InvalidStateTransitionError,
        'INVALID_STATE_TRANSITION',
      )
      expect({ from: e3.from, to: e3.to }).toEqual({ from: 'stopped', to: 'ready' })
      await track.stopAll()
    })

    it('a name is reusable after stop, refused while its worker lives', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'reuse')
      const name = uniqueName('reused')
      const first = track(worker(store, q, () => {}, { name, pollIntervalMs: 20 }))
      await first.start()
      const twin = track(worker(store, q, () => {}, { name, pollIntervalMs: 20 }))
      const e = await rejection(twin.start())
      expect(
        ConflictError.is(e),
        `expected a ConflictError (WorkerActiveError), got ${String(e)}`,
      ).toBe(true)
      expect((e as Error).message).toContain(name)
      expect(twin.state).toBe('stopped')
      await first.stop()
      const second = track(worker(store, q, () => {}, { name, pollIntervalMs: 20 }))
      await second.start()
      expect(second.record!.id).toBe(first.record!.id)
      expect((await store.workers.getByName(name))?.status).toBe('polling')
      await second.stop()
      await track.stopAll()
    })

    it('unnamed producers and consumers share one process identity (at most one worker row)', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'identity')
      const before = (await store.workers.list()).length
      const consumers = await Promise.all(Array.from({ length: 10 }, () => store.consumer(q)))
      const producers = await Promise.all(Array.from({ length: 10 }, () => store.producer(q)))
      const after = (await store.workers.list()).length
      expect(after - before).toBeLessThanOrEqual(1)
      const ids = new Set([...consumers, ...producers].map((x) => x.workerId))
      expect(ids.size).toBe(1)
      expect([...ids][0]).toEqual(expect.any(Number))
    })
  })
}
