import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ValidationError } from '@pgqrs/core'
import { admin, worker } from '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { planned } from '../plan.js'
import {
  expectError,
  freshQueue,
  rejection,
  sleep,
  uniqueName,
  useStore,
  waitFor,
} from '../util.js'
import { workerTracker } from './helpers.js'
import { forkWorker, type WorkerChild } from './multi-process.js'

/** Counts handlers running at once, overall and per key. */
function gauge() {
  const perKey = new Map<string, number>()
  const g = { now: 0, max: 0, maxPerKey: 0, done: 0 }
  return {
    g,
    async hold(key: string | null, ms: number) {
      g.now++
      g.max = Math.max(g.max, g.now)
      if (key !== null) {
        const n = (perKey.get(key) ?? 0) + 1
        perKey.set(key, n)
        g.maxPerKey = Math.max(g.maxPerKey, n)
      }
      await sleep(ms)
      g.now--
      if (key !== null) perKey.set(key, perKey.get(key)! - 1)
      g.done++
    },
  }
}

interface Interval {
  readonly id: number
  readonly key: string | null
  readonly start: number
  readonly end: number
}

/** The most intervals overlapping at one instant, overall and per key (ends are exclusive). */
function maxOverlap(list: readonly Interval[]): { overall: number; perKey: number } {
  const points = list.flatMap((i) => [
    { t: i.start, d: 1, key: i.key },
    { t: i.end, d: -1, key: i.key },
  ])
  points.sort((a, b) => a.t - b.t || a.d - b.d) // an end before a start at the same ms
  let now = 0
  let overall = 0
  let perKey = 0
  const keys = new Map<string, number>()
  for (const p of points) {
    now += p.d
    overall = Math.max(overall, now)
    if (p.key !== null) {
      const n = (keys.get(p.key) ?? 0) + p.d
      keys.set(p.key, n)
      perKey = Math.max(perKey, n)
    }
  }
  return { overall, perKey }
}

/**
 * Concurrency limits enforced by the claim (issue 14, item 4): `maxConcurrency` per queue and
 * `concurrencyPerKey` per message key, across workers; an expired lease frees its slot; and, on
 * multi-process stores, 4 worker processes × concurrency 8.
 */
export function limitTests(harness: StoreHarness): void {
  if (!planned(harness, 'concurrency limits')) return
  describe('concurrency limits', () => {
    const fx = useStore(harness)
    const track = workerTracker()

    it('limits are set, read and removed; bad values are refused', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'limits-api')
      const a = admin(store)
      expect(await a.queueLimits(q)).toEqual({
        maxConcurrency: null,
        concurrencyPerKey: null,
        rateLimit: null,
      })
      expect(await a.setQueueLimits(q, { maxConcurrency: 3 })).toEqual({
        maxConcurrency: 3,
        concurrencyPerKey: null,
        rateLimit: null,
      })
      expect(
        await a.setQueueLimits(q, { concurrencyPerKey: 1, rateLimit: { max: 5, perMs: 100 } }),
      ).toEqual({
        maxConcurrency: 3,
        concurrencyPerKey: 1,
        rateLimit: { max: 5, perMs: 100, perKey: false },
      })
      expect(await a.setQueueLimits(q, { maxConcurrency: null, rateLimit: null })).toEqual({
        maxConcurrency: null,
        concurrencyPerKey: 1,
        rateLimit: null,
      })
      const r = expectError(
        await rejection(a.setQueueLimits(q, { rateLimit: { max: 5, perMs: 0 } })),
        ValidationError,
        'VALIDATION',
      )
      expect(r.field).toBe('rateLimit.perMs')
      const e = expectError(
        await rejection(a.setQueueLimits(q, { maxConcurrency: 0 })),
        ValidationError,
        'VALIDATION',
      )
      expect(e.field).toBe('maxConcurrency')
      const created = uniqueName('limits-created')
      await a.createQueue(created, { maxConcurrency: 2 })
      expect((await a.queueLimits(created)).maxConcurrency).toBe(2)
      const p = await store.producer(q)
      expectError(
        await rejection(p.enqueue({}, { concurrencyKey: '' })),
        ValidationError,
        'VALIDATION',
      )
    })

    it('maxConcurrency caps the leases of a queue; an expired lease frees its slot', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'limits-lease')
      await admin(store).setQueueLimits(q, { maxConcurrency: 2 })
      await (await store.producer(q)).enqueueMany([1, 2, 3, 4])
      const first = await store.messages.dequeue(q, { batchSize: 10, leaseMs: 400 })
      expect(first.length).toBe(2)
      expect(await store.messages.dequeue(q, { batchSize: 10, leaseMs: 400 })).toEqual([])
      expect(await store.messages.archive([first[0]!])).toEqual([true])
      expect((await store.messages.dequeue(q, { batchSize: 10, leaseMs: 400 })).length).toBe(1)
      // both leases run out: two slots free again, nobody settled anything
      await sleep(500)
      expect((await store.messages.dequeue(q, { batchSize: 10, leaseMs: 10_000 })).length).toBe(2)
      // without the limit the same queue claims as before
      await admin(store).setQueueLimits(q, { maxConcurrency: null })
      expect((await store.messages.dequeue(q, { batchSize: 10, leaseMs: 10_000 })).length).toBe(1)
    })

    it('concurrencyPerKey: 1 holds one message per key at a time; messages without a key are not held', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'limits-key')
      await admin(store).setQueueLimits(q, { concurrencyPerKey: 1 })
      const p = await store.producer(q)
      for (const key of ['a', 'a', 'b', 'b']) await p.enqueue({ key }, { concurrencyKey: key })
      await p.enqueueMany([{ key: null }, { key: null }])
      const got = await store.messages.dequeue(q, { batchSize: 10, leaseMs: 10_000 })
      expect(got.map((m) => (m.payload as { key: string | null }).key)).toEqual([
        'a',
        'b',
        null,
        null,
      ])
      expect(await store.messages.dequeue(q, { batchSize: 10, leaseMs: 10_000 })).toEqual([])
      expect(await store.messages.archive([got[0]!])).toEqual([true])
      const next = await store.messages.dequeue(q, { batchSize: 10, leaseMs: 10_000 })
      expect(next.map((m) => (m.payload as { key: string }).key)).toEqual(['a'])
    })

    it('workers on a queue with maxConcurrency 3 never run more than 3 handlers at once', {
      timeout: 30_000,
    }, async () => {
      const { store } = fx
      const q = await freshQueue(store, 'limits-workers')
      await admin(store).setQueueLimits(q, { maxConcurrency: 3 })
      await (await store.producer(q)).enqueueMany(Array.from({ length: 24 }, (_, i) => i))
      const { g, hold } = gauge()
      const ws = [1, 2].map(() =>
        track(worker(store, q, () => hold(null, 30), { concurrency: 4, pollIntervalMs: 20 })),
      )
      for (const w of ws) await w.start()
      await waitFor(() => g.done >= 24, { timeoutMs: 20_000, what: '24 messages handled' })
      await track.stopAll()
      expect(g.max).toBeLessThanOrEqual(3)
      expect(g.max).toBeGreaterThanOrEqual(2)
    })

    it('a worker over several queues keeps a limited one within its limit', {
      timeout: 30_000,
    }, async () => {
      const { store } = fx
      const a = await freshQueue(store, 'limits-many-a')
      const b = await freshQueue(store, 'limits-many-b')
      await admin(store).setQueueLimits(a, { maxConcurrency: 1 })
      await (await store.producer(a)).enqueueMany(Array.from({ length: 6 }, (_, i) => i))
      await (await store.producer(b)).enqueueMany(Array.from({ length: 6 }, (_, i) => i))
      const ga = gauge()
      const gb = gauge()
      const w = track(
        worker(
          store,
          { [a]: () => ga.hold(null, 30), [b]: () => gb.hold(null, 30) },
          {
            concurrency: 6,
            pollIntervalMs: 20,
          },
        ),
      )
      await w.start()
      await waitFor(() => ga.g.done + gb.g.done >= 12, { timeoutMs: 20_000, what: 'all handled' })
      await track.stopAll()
      expect(ga.g.max).toBe(1)
    })

    it('a rate limit of 20 per second: 100 messages take at least 4.5 s and no 1-second window has more than 20 claims', {
      timeout: 30_000,
    }, async () => {
      const { store } = fx
      const q = await freshQueue(store, 'limits-rate')
      await admin(store).setQueueLimits(q, { rateLimit: { max: 20, perMs: 1_000 } })
      const sent = await (await store.producer(q)).enqueueMany(
        Array.from({ length: 100 }, (_, i) => i),
      )
      let done = 0
      // a long poll interval: the workers wait for the budget to come back, not for their poll
      const ws = [1, 2].map(() =>
        track(worker(store, q, async () => void done++, { concurrency: 8, pollIntervalMs: 5_000 })),
      )
      const started = Date.now()
      for (const w of ws) await w.start()
      await waitFor(() => done >= 100, { timeoutMs: 20_000, what: '100 messages handled' })
      const took = Date.now() - started
      await track.stopAll()
      expect(took).toBeGreaterThanOrEqual(4_500)
      expect(took).toBeLessThan(9_000)
      // claim times on the store's clock: the first delivery of each message
      const claimed: number[] = []
      for (const m of sent) claimed.push((await store.messages.get(m.id))!.dequeuedAt!.getTime())
      claimed.sort((x, y) => x - y)
      let most = 0
      for (let i = 0, j = 0; i < claimed.length; i++) {
        while (claimed[i]! - claimed[j]! >= 1_000) j++
        most = Math.max(most, i - j + 1)
      }
      expect(most).toBeLessThanOrEqual(20)
    })

    it('a per-key rate limit spaces the claims of each concurrency key; rateWaitMs says when budget returns', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'limits-rate-key')
      // 2 per 600 ms per key: one claim of a key every 300 ms
      await admin(store).setQueueLimits(q, { rateLimit: { max: 2, perMs: 600, perKey: true } })
      const p = await store.producer(q)
      for (const key of ['a', 'a', 'a', 'b', 'b', 'b'])
        await p.enqueue({ key }, { concurrencyKey: key })
      const first = await store.messages.dequeue(q, { batchSize: 10, leaseMs: 10_000 })
      expect(first.map((m) => (m.payload as { key: string }).key)).toEqual(['a', 'b'])
      expect(await store.messages.dequeue(q, { batchSize: 10, leaseMs: 10_000 })).toEqual([])
      const wait = await store.messages.rateWaitMs!(q)
      expect(wait).toBeGreaterThan(0)
      expect(wait).toBeLessThanOrEqual(300)
      await sleep(wait! + 50)
      const next = await store.messages.dequeue(q, { batchSize: 10, leaseMs: 10_000 })
      expect(next.map((m) => (m.payload as { key: string }).key)).toEqual(['a', 'b'])
      expect(await store.messages.rateWaitMs!(await freshQueue(store, 'limits-no-rate'))).toBeNull()
    })

    if (planned(harness, 'queue-worker: worker processes')) {
      const run = async (queue: string, count: number, keys: number) => {
        const { store } = fx
        const p = await store.producer(queue)
        for (let i = 0; i < count; i++) {
          const key = keys > 0 ? `customer-${i % keys}` : null
          await p.enqueue({ key }, key === null ? {} : { concurrencyKey: key })
        }
        const { dsn, config } = harness.connection(store)
        const dir = mkdtempSync(join(tmpdir(), 'pgqrs-limits-'))
        const children: WorkerChild[] = []
        try {
          for (let i = 0; i < 4; i++)
            children.push(
              forkWorker(
                {
                  dsn,
                  config: { ...config, logger: false },
                  queue,
                  name: uniqueName(`limits-${i}`),
                  concurrency: 8,
                  batchSize: 8,
                  leaseMs: 30_000,
                  pollIntervalMs: 20,
                  logFile: join(dir, `${i}.log`),
                  holdMs: 20,
                },
                'limits.js',
              ),
            )
          await Promise.all(children.map((c) => c.next('started', 60_000)))
          await waitFor(async () => (await store.queues.metrics(queue))!.archived === count, {
            timeoutMs: 120_000,
            intervalMs: 100,
            what: `all ${count} messages archived`,
          })
          for (const c of children) c.process.send({ type: 'stop' })
          const reports = await Promise.all(children.map((c) => c.next('stopped', 30_000)))
          expect(reports.flatMap((r) => r.errors)).toEqual([])
          const intervals = children.flatMap((_, i) =>
            readFileSync(join(dir, `${i}.log`), 'utf8')
              .split('\n')
              .filter((l) => l !== '')
              .map((l) => JSON.parse(l) as Interval),
          )
          expect(new Set(intervals.map((x) => x.id)).size).toBe(count)
          return { ...maxOverlap(intervals), perChild: reports.map((r) => r.handled) }
        } finally {
          for (const c of children)
            if (c.process.exitCode === null && c.process.signalCode === null)
              c.process.kill('SIGKILL')
          await Promise.all(children.map((c) => c.exited))
          rmSync(dir, { recursive: true, force: true })
        }
      }

      it('4 worker processes × concurrency 8, 200 messages on 5 keys, concurrencyPerKey 1: at most 1 handler per key at once', {
        timeout: 180_000,
      }, async () => {
        const q = await freshQueue(fx.store, 'limits-mp-key')
        await admin(fx.store).setQueueLimits(q, { concurrencyPerKey: 1 })
        const r = await run(q, 200, 5)
        expect(r.perKey).toBe(1)
        expect(r.overall).toBeGreaterThanOrEqual(2)
      })

      it('4 worker processes × concurrency 8 on a queue with maxConcurrency 3: never more than 3 at once', {
        timeout: 180_000,
      }, async () => {
        const q = await freshQueue(fx.store, 'limits-mp-max')
        await admin(fx.store).setQueueLimits(q, { maxConcurrency: 3 })
        const r = await run(q, 200, 0)
        expect(r.overall).toBeLessThanOrEqual(3)
        expect(r.overall).toBeGreaterThanOrEqual(2)
      })
    }
  })
}
