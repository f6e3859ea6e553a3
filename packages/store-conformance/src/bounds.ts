import {
  ANONYMOUS_WORKER_PREFIX,
  DEFAULT_PAGE_LIMIT,
  listAll,
  MAX_ENQUEUE_BYTES,
  MAX_PAGE_LIMIT,
  type Store,
  ValidationError,
} from '@pgqrs/core'
import { admin } from '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from './harness.js'
import { dequeueOne, expectError, rejection, uniqueName, useStore } from './util.js'

/** Values every paged list refuses as `limit`, with why. */
const BAD_LIMITS: readonly (readonly [label: string, limit: unknown])[] = [
  ['0', 0],
  ['negative', -1],
  ['above the maximum', MAX_PAGE_LIMIT + 1],
  ['not an integer', 1.5],
  ['a string', '10'],
]

/** The paged lists, each with a way to make items and its cursor. */
interface PagedList {
  readonly label: string
  /** Makes `n` items that sort after everything made before by this helper; returns their cursors. */
  make(store: Store, n: number): Promise<(string | number)[]>
  list(store: Store, page: { limit?: number; after?: string | number }): Promise<unknown[]>
  cursor(item: unknown): string | number
  readonly badCursor: unknown
}

/** ready → suspended → stopped (the transition table allows stopped only from suspended). */
async function stopWorker(store: Store, id: number): Promise<void> {
  await store.workers.transition(id, 'suspended')
  await store.workers.transition(id, 'stopped')
}

let runForSteps: { runId: number; lease: string | null } | undefined

const LISTS: readonly PagedList[] = [
  {
    label: 'queues.list',
    async make(store, n) {
      const base = uniqueName('zz-page-q')
      const names = Array.from({ length: n }, (_, i) => `${base}-${String(i).padStart(4, '0')}`)
      for (const name of names) await store.queues.ensure(name)
      return names
    },
    list: (store, page) => store.queues.list(page as { limit?: number; after?: string }),
    cursor: (q) => (q as { name: string }).name,
    badCursor: 42,
  },
  {
    label: 'workflows.list',
    async make(store, n) {
      const base = uniqueName('zz-page-w')
      const names = Array.from({ length: n }, (_, i) => `${base}-${String(i).padStart(4, '0')}`)
      for (const name of names) await store.workflows.ensure(name)
      return names
    },
    list: (store, page) => store.workflows.list(page as { limit?: number; after?: string }),
    cursor: (w) => (w as { name: string }).name,
    badCursor: 42,
  },
  {
    label: 'workers.list',
    async make(store, n) {
      const ids: number[] = []
      for (let i = 0; i < n; i++) {
        const w = await store.workers.register({
          name: uniqueName('page-worker'),
          hostname: 'conformance',
          pid: 1,
        })
        ids.push(w.id)
      }
      return ids
    },
    list: (store, page) => store.workers.list(page as { limit?: number; after?: number }),
    cursor: (w) => (w as { id: number }).id,
    badCursor: 'seven',
  },
  {
    label: 'steps.list',
    async make(store, n) {
      if (!runForSteps) {
        const workflow = uniqueName('page-steps')
        await store.workflows.ensure(workflow)
        const { run } = await store.runs.start(workflow, {})
        const message = await dequeueOne(store, workflow)
        await store.runs.transition(run.id, { to: 'RUNNING', lease: message.lease })
        runForSteps = { runId: run.id, lease: message.lease }
      }
      const { runId, lease } = runForSteps
      const ids: number[] = []
      for (let i = 0; i < n; i++) {
        const got = await store.steps.acquire(runId, uniqueName('s'), lease)
        ids.push(got.step!.id)
      }
      return ids
    },
    list: (store, page) =>
      store.steps.list(runForSteps?.runId ?? 1, page as { limit?: number; after?: number }),
    cursor: (s) => (s as { id: number }).id,
    badCursor: 'seven',
  },
]

/**
 * Registers the tests of issue 13's bounds: every list is paged (limit and cursor, a default and a
 * maximum, `ValidationError` for a bad value), queue metrics page too and agree with the lists,
 * stopped anonymous workers are purged while named and live ones stay, and one enqueue has a
 * total byte limit as well as a count limit.
 */
export function boundsTests(harness: StoreHarness): void {
  describe('bounds: paged lists, worker retention, enqueue bytes', () => {
    const fx = useStore(harness)

    for (const l of LISTS) {
      it(`${l.label} pages by limit and cursor: every item once, in order`, async () => {
        const made = await l.make(fx.store, 5)
        const seen: (string | number)[] = []
        let after: string | number | undefined
        for (;;) {
          const page = await l.list(
            fx.store,
            after === undefined ? { limit: 2 } : { limit: 2, after },
          )
          expect(page.length).toBeLessThanOrEqual(2)
          seen.push(...page.map(l.cursor))
          if (page.length < 2) break
          after = l.cursor(page.at(-1))
        }
        expect(new Set(seen).size).toBe(seen.length)
        const sorted = [...seen].sort((a, b) =>
          typeof a === 'number' ? a - (b as number) : a < b ? -1 : a > b ? 1 : 0,
        )
        expect(seen).toEqual(sorted)
        for (const m of made) expect(seen).toContain(m)
        // a cursor past the last of them: the page starts right after it
        const page = await l.list(fx.store, { limit: 3, after: made[1] })
        expect(page.map(l.cursor).slice(0, 3)).toEqual(made.slice(2, 5))
      })

      it(`${l.label} refuses a bad limit or cursor with a ValidationError naming it`, async () => {
        for (const [label, limit] of BAD_LIMITS) {
          const e = expectError(
            await rejection(l.list(fx.store, { limit: limit as number })),
            ValidationError,
            'VALIDATION',
            'limit',
          )
          expect(e.field, label).toBe('limit')
          expect(e.allowed).toContain(String(MAX_PAGE_LIMIT))
        }
        const e = expectError(
          await rejection(l.list(fx.store, { after: l.badCursor as string })),
          ValidationError,
          'VALIDATION',
          'after',
        )
        expect(e.field).toBe('after')
      })
    }

    it(`a list without a limit returns at most ${DEFAULT_PAGE_LIMIT}, and listAll reads every page`, async () => {
      const made = await LISTS[0]!.make(fx.store, DEFAULT_PAGE_LIMIT + 1)
      expect(await fx.store.queues.list()).toHaveLength(DEFAULT_PAGE_LIMIT)
      const all = await listAll(
        (page) => fx.store.queues.list(page),
        (q) => q.name,
        7,
      )
      for (const name of made) expect(all.map((q) => q.name)).toContain(name)
      expect(new Set(all.map((q) => q.name)).size).toBe(all.length)
      // allMetrics pages the same way and agrees with the list, page by page
      const metrics = await listAll(
        (page) => fx.store.queues.allMetrics(page),
        (m) => m.name,
        7,
      )
      expect(metrics.map((m) => m.name)).toEqual(all.map((q) => q.name))
      expect(await fx.store.queues.allMetrics()).toHaveLength(DEFAULT_PAGE_LIMIT)
      expectError(
        await rejection(fx.store.queues.allMetrics({ limit: MAX_PAGE_LIMIT + 1 })),
        ValidationError,
        'VALIDATION',
        'limit',
      )
    })

    it('metrics keep exact archived and dead counts through archive, dead letters, replay, purges and a queue re-created', async () => {
      const s = fx.store
      const queue = uniqueName('counts')
      await s.queues.ensure(queue)
      const counts = async () => {
        const m = await s.queues.metrics(queue)
        return { archived: m?.archived, dead: m?.dead }
      }
      await s.messages.enqueue(
        queue,
        Array.from({ length: 6 }, (_, i) => ({ payload: i, maxAttempts: 1 })),
      )
      const got = await s.messages.dequeue(queue, { batchSize: 6, leaseMs: 30_000 })
      expect(await s.messages.archive(got.slice(0, 4))).toEqual([true, true, true, true])
      expect(await s.messages.fail(got[4]!, 'boom', 0)).toBe('dead')
      expect(await s.messages.fail(got[5]!, 'boom', 0)).toBe('dead')
      expect(await counts()).toEqual({ archived: 4, dead: 2 })
      // read twice: the second read sees the same counts (Postgres folded its log in the first)
      expect(await counts()).toEqual({ archived: 4, dead: 2 })
      expect(await s.messages.replay(got[0]!.id)).not.toBeNull()
      expect(await s.messages.replay(got[4]!.id)).not.toBeNull()
      expect(await counts()).toEqual({ archived: 3, dead: 1 })
      expect(await s.messages.purgeArchived({ olderThanMs: 0, queue })).toBe(3)
      expect(await counts()).toEqual({ archived: 0, dead: 1 })
      expect(await s.messages.purgeArchived({ olderThanMs: 0, queue, includeDead: true })).toBe(1)
      expect(await counts()).toEqual({ archived: 0, dead: 0 })
      // the replayed two are active again: archive one, then purge the queue and delete it
      const again = await s.messages.dequeue(queue, { batchSize: 2, leaseMs: 30_000 })
      await s.messages.archive([again[0]!])
      expect(await counts()).toEqual({ archived: 1, dead: 0 })
      await s.queues.purge(queue)
      expect(await counts()).toEqual({ archived: 0, dead: 0 })
      await s.messages.enqueue(queue, [{ payload: 'x' }])
      const [m] = await s.messages.dequeue(queue, { batchSize: 1, leaseMs: 30_000 })
      await s.messages.archive([m!])
      expect(await s.queues.delete(queue, { force: true })).toBe(true)
      await s.queues.ensure(queue)
      expect(await counts()).toEqual({ archived: 0, dead: 0 })
      // every queue of a page agrees with its own metrics
      const page = await s.queues.allMetrics({ limit: MAX_PAGE_LIMIT })
      const one = page.find((x) => x.name === queue)
      expect(one).toMatchObject({ archived: 0, dead: 0 })
    })

    it('workers.list filters live or stopped workers, with the queue filter and paging', async () => {
      const live = await fx.store.workers.register({
        name: uniqueName('live'),
        hostname: 'conformance',
        pid: 1,
      })
      const stopped = await fx.store.workers.register({
        name: uniqueName('stopped'),
        hostname: 'conformance',
        pid: 1,
      })
      await stopWorker(fx.store, stopped.id)
      const liveIds = (
        await listAll(
          (p) => fx.store.workers.list({ ...p, live: true }),
          (w) => w.id,
        )
      ).map((w) => w.id)
      const stoppedIds = (
        await listAll(
          (p) => fx.store.workers.list({ ...p, live: false }),
          (w) => w.id,
        )
      ).map((w) => w.id)
      expect(liveIds).toContain(live.id)
      expect(liveIds).not.toContain(stopped.id)
      expect(stoppedIds).toContain(stopped.id)
      expect(stoppedIds).not.toContain(live.id)
      expectError(
        await rejection(fx.store.workers.list({ live: 'yes' as unknown as boolean })),
        ValidationError,
        'VALIDATION',
        'live',
      )
    })

    it('stopped anonymous workers are purged; named, live and recently stopped ones stay', async () => {
      const reg = (name: string) =>
        fx.store.workers.register({ name, hostname: 'conformance', pid: 1 })
      const anonStopped = await reg(`${ANONYMOUS_WORKER_PREFIX}${uniqueName('gone')}`)
      const anonLive = await reg(`${ANONYMOUS_WORKER_PREFIX}${uniqueName('here')}`)
      const namedStopped = await reg(uniqueName('named'))
      await stopWorker(fx.store, anonStopped.id)
      await stopWorker(fx.store, namedStopped.id)
      const a = admin(fx.store)
      // stopped less than an hour ago: kept
      expect(await a.purgeStoppedWorkers({ olderThanMs: 3_600_000, anonymousOnly: true })).toBe(0)
      expect(await fx.store.workers.get(anonStopped.id)).not.toBeNull()
      expect(
        await a.purgeStoppedWorkers({ olderThanMs: 0, anonymousOnly: true }),
      ).toBeGreaterThanOrEqual(1)
      expect(await fx.store.workers.get(anonStopped.id)).toBeNull()
      expect(await fx.store.workers.get(anonLive.id)).not.toBeNull()
      expect(await fx.store.workers.get(namedStopped.id)).not.toBeNull()
      // without anonymousOnly, any stopped row goes; a live one never does
      expect(await a.purgeStoppedWorkers({ olderThanMs: 0 })).toBeGreaterThanOrEqual(1)
      expect(await fx.store.workers.get(namedStopped.id)).toBeNull()
      expect(await fx.store.workers.get(anonLive.id)).not.toBeNull()
      expectError(
        await rejection(a.purgeStoppedWorkers({ olderThanMs: -1 })),
        ValidationError,
        'VALIDATION',
        'olderThanMs',
      )
    })

    it('an unnamed worker registers an anonymous row, and a given name may not look anonymous', async () => {
      const queue = uniqueName('anon-q')
      await fx.store.queues.ensure(queue)
      const { worker } = await import('@pgqrs/queue')
      const w = worker(fx.store, queue, async () => {})
      await w.start()
      await w.stop()
      const mine = (
        await listAll(
          (p) => fx.store.workers.list({ ...p, queue, live: false }),
          (x) => x.id,
        )
      ).filter((x) => x.name.startsWith(ANONYMOUS_WORKER_PREFIX))
      expect(mine).toHaveLength(1)
      expect(
        await admin(fx.store).purgeStoppedWorkers({ olderThanMs: 0, anonymousOnly: true }),
      ).toBeGreaterThanOrEqual(1)
      expect(await fx.store.workers.get(mine[0]!.id)).toBeNull()
      expect(() =>
        worker(fx.store, queue, async () => {}, { name: `${ANONYMOUS_WORKER_PREFIX}mine` }),
      ).toThrow(/reserved/)
    })

    it(`one enqueue holds at most ${MAX_ENQUEUE_BYTES} bytes of payloads: a ValidationError naming the limit, nothing stored`, async () => {
      const queue = uniqueName('bytes')
      await fx.store.queues.ensure(queue)
      const big = 'x'.repeat(1_000_000)
      const count = Math.floor(MAX_ENQUEUE_BYTES / 1_000_002) + 1
      const items = Array.from({ length: count }, () => ({ payload: big }))
      const e = expectError(
        await rejection(fx.store.messages.enqueue(queue, items)),
        ValidationError,
        'VALIDATION',
        String(MAX_ENQUEUE_BYTES),
        'MAX_ENQUEUE_BYTES',
      )
      expect(e.field).toBe('items')
      expect((await fx.store.queues.metrics(queue))?.pending).toBe(0)
      // multi-byte text counts in UTF-8 bytes, not characters
      const wide = 'é'.repeat(500_000) // 1 MB of UTF-8 in 500 000 characters
      const n = Math.floor(MAX_ENQUEUE_BYTES / 1_000_002) + 1
      await expect(
        fx.store.messages.enqueue(
          queue,
          Array.from({ length: n }, () => ({ payload: wide })),
        ),
      ).rejects.toThrow(/MAX_ENQUEUE_BYTES/)
      // a batch under the limit goes through
      const ok = await fx.store.messages.enqueue(queue, [{ payload: big }, { payload: big }])
      expect(ok).toHaveLength(2)
    })
  })
}
