import { ConflictError, PgqrsError, QueueAlreadyExistsError, ValidationError } from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from './harness.js'
import { SHORTCUTS } from './plan.js'
import {
  dequeueOne,
  enqueuePayloads,
  expectError,
  freshQueue,
  rejection,
  sleep,
  totalMessages,
  uniqueName,
  useStore,
  waitFor,
} from './util.js'

/** Names that `^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$` refuses. */
export const INVALID_QUEUE_NAMES: readonly (readonly [label: string, name: string])[] = [
  ['with a space', 'bad name'],
  ['empty', ''],
  ['129 characters', 'a'.repeat(129)],
  ['starting with -', '-x'],
]

/**
 * Registers the queue repository tests: capabilities, `ensure`/`create`/`get`/`list`/`delete`/
 * `purge`, name validation and metrics.
 */
export function queueTests(harness: StoreHarness): void {
  describe('queues', () => {
    const fx = useStore(harness)

    it('store.capabilities equals harness.capabilities', () => {
      expect(fx.store.capabilities).toEqual(harness.capabilities)
    })

    it('the store implements exactly the optional methods the harness declares', () => {
      const s = fx.store
      const has = {
        'messages.settleAndDequeue': typeof s.messages.settleAndDequeue === 'function',
        'runs.end': typeof s.runs.end === 'function',
        'steps.record': typeof s.steps.record === 'function',
        'messages.cancel': typeof s.messages.cancel === 'function',
        'messages.dequeueQueues': typeof s.messages.dequeueQueues === 'function',
        'messages.handlerMetrics': typeof s.messages.handlerMetrics === 'function',
        'runs.counts': typeof s.runs.counts === 'function',
        'events.values': typeof s.events.values === 'function',
        schedules: typeof s.schedules === 'object' && s.schedules !== null,
        'queues.limits':
          typeof s.queues.limits === 'function' &&
          typeof s.queues.setLimits === 'function' &&
          typeof s.messages.rateWaitMs === 'function',
      }
      const declared = new Set(harness.shortcuts ?? [])
      expect(Object.fromEntries(SHORTCUTS.map((k) => [k, declared.has(k)]))).toEqual(has)
      expect(typeof fx.store.backend).toBe('string')
      expect(fx.store.backend.length).toBeGreaterThan(0)
    })

    if (harness.capabilities.notifications) {
      it('listen calls back with the queue name when a message is enqueued', async () => {
        const queue = await freshQueue(fx.store, 'listen')
        const heard: string[] = []
        const subscription = await fx.store.listen([queue], (channel) => heard.push(channel))
        expect(subscription).not.toBeNull()
        try {
          await enqueuePayloads(fx.store, queue, [1])
          await waitFor(() => heard.includes(queue), { what: `a notification on ${queue}` })
          expect(heard.every((c) => c === queue)).toBe(true)
        } finally {
          await subscription!.close()
          await subscription!.close()
        }
      })
    } else {
      it('listen resolves null because capabilities.notifications is false', async () => {
        const queue = await freshQueue(fx.store, 'listen')
        expect(await fx.store.listen([queue], () => {})).toBeNull()
      })
    }

    it('ensure is get-or-create: the same record twice', async () => {
      const name = uniqueName('ensure')
      const first = await fx.store.queues.ensure(name)
      const second = await fx.store.queues.ensure(name)
      expect(first.id).toBeGreaterThan(0)
      expect(first.name).toBe(name)
      expect(first.createdAt).toBeInstanceOf(Date)
      expect(second.id).toBe(first.id)
      expect(second.createdAt.getTime()).toBe(first.createdAt.getTime())
    })

    it('ensure run 5 times concurrently creates one queue', async () => {
      const name = uniqueName('ensure-concurrent')
      const records = await Promise.all(
        Array.from({ length: 5 }, () => fx.store.queues.ensure(name)),
      )
      expect(new Set(records.map((r) => r.id)).size).toBe(1)
      const listed = (await fx.store.queues.list()).filter((q) => q.name === name)
      expect(listed).toHaveLength(1)
      expect(listed[0]?.id).toBe(records[0]?.id)
    })

    it('create makes a new queue and refuses an existing name with QueueAlreadyExistsError', async () => {
      const name = uniqueName('create')
      const created = await fx.store.queues.create(name)
      expect(created.name).toBe(name)
      const error = await rejection(fx.store.queues.create(name))
      const e = expectError(error, QueueAlreadyExistsError, 'QUEUE_ALREADY_EXISTS', name)
      expect(ConflictError.is(e)).toBe(true)
      expect(e).toBeInstanceOf(PgqrsError)
      const after = await fx.store.queues.get(name)
      expect(after?.id).toBe(created.id)
      expect(after?.createdAt.getTime()).toBe(created.createdAt.getTime())
    })

    it('get returns the queue by name, and null for an unknown name', async () => {
      const name = await freshQueue(fx.store, 'get')
      const found = await fx.store.queues.get(name)
      expect(found?.name).toBe(name)
      expect(await fx.store.queues.get(uniqueName('never-created'))).toBeNull()
    })

    it('list returns every queue sorted by name', async () => {
      const prefix = uniqueName('list')
      for (const suffix of ['c', 'a', 'b']) await fx.store.queues.create(`${prefix}-${suffix}`)
      const all = await fx.store.queues.list()
      const mine = all.filter((q) => q.name.startsWith(`${prefix}-`)).map((q) => q.name)
      expect(mine).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`])
    })

    it('delete returns false for an unknown queue and true for an empty one', async () => {
      expect(await fx.store.queues.delete(uniqueName('never-created'))).toBe(false)
      const name = await freshQueue(fx.store, 'delete-empty')
      expect(await fx.store.queues.delete(name)).toBe(true)
      expect(await fx.store.queues.get(name)).toBeNull()
      expect(await fx.store.queues.delete(name)).toBe(false)
    })

    it('delete refuses a queue with active messages (ConflictError) unless force', async () => {
      const name = await freshQueue(fx.store, 'delete-active')
      const [msg] = await enqueuePayloads(fx.store, name, [{ n: 1 }])
      const error = await rejection(fx.store.queues.delete(name))
      expect(ConflictError.is(error)).toBe(true)
      expect(error).toBeInstanceOf(ConflictError)
      expect((error as Error).message).toContain(name)
      expect(await fx.store.queues.get(name)).not.toBeNull()
      expect((await fx.store.messages.get(msg!.id))?.id).toBe(msg!.id)
      expect(await fx.store.queues.delete(name, { force: true })).toBe(true)
      expect(await fx.store.queues.get(name)).toBeNull()
      expect(await fx.store.messages.get(msg!.id)).toBeNull()
    })

    it('delete refuses a queue whose only message is leased', async () => {
      const name = await freshQueue(fx.store, 'delete-leased')
      await enqueuePayloads(fx.store, name, [{ n: 1 }])
      await dequeueOne(fx.store, name)
      expect(ConflictError.is(await rejection(fx.store.queues.delete(name)))).toBe(true)
      expect(await fx.store.queues.get(name)).not.toBeNull()
    })

    it('delete allows a queue that has only archived messages', async () => {
      const name = await freshQueue(fx.store, 'delete-archived')
      await enqueuePayloads(fx.store, name, [{ n: 1 }])
      const msg = await dequeueOne(fx.store, name)
      expect(await fx.store.messages.archive([msg])).toEqual([true])
      expect(await fx.store.queues.delete(name)).toBe(true)
      expect(await fx.store.queues.get(name)).toBeNull()
      // the archived row goes with its queue, and a new queue of the same name starts empty
      expect(await fx.store.messages.get(msg.id)).toBeNull()
      await fx.store.queues.create(name)
      expect(await fx.store.messages.list(name, { state: 'archived' })).toEqual([])
    })

    it('purge returns the count and removes active and archived messages', async () => {
      const name = await freshQueue(fx.store, 'purge')
      await enqueuePayloads(fx.store, name, [1, 2, 3])
      const msg = await dequeueOne(fx.store, name)
      expect(await fx.store.messages.archive([msg])).toEqual([true])
      expect(await totalMessages(fx.store, name)).toBe(3)
      expect(await fx.store.queues.purge(name)).toBe(3)
      expect(await totalMessages(fx.store, name)).toBe(0)
      expect(await fx.store.messages.list(name)).toEqual([])
      expect(await fx.store.messages.list(name, { state: 'archived' })).toEqual([])
      expect(await fx.store.messages.get(msg.id)).toBeNull()
      expect(await fx.store.queues.get(name)).not.toBeNull()
    })

    for (const [label, name] of INVALID_QUEUE_NAMES) {
      it(`an invalid name (${label}) throws ValidationError naming the pattern; nothing is created`, async () => {
        const before = (await fx.store.queues.list()).length
        for (const op of [() => fx.store.queues.create(name), () => fx.store.queues.ensure(name)]) {
          const e = expectError(await rejection(op()), ValidationError, 'VALIDATION')
          expect(e.message).toMatch(/A-Za-z0-9/)
        }
        expect((await fx.store.queues.list()).length).toBe(before)
      })
    }

    it('metrics of an unknown queue is null', async () => {
      expect(await fx.store.queues.metrics(uniqueName('never-created'))).toBeNull()
    })

    it('metrics count pending, delayed, leased and archived messages', async () => {
      const name = await freshQueue(fx.store, 'metrics')
      const empty = await fx.store.queues.metrics(name)
      expect(empty).toMatchObject({ name, pending: 0, leased: 0, delayed: 0, archived: 0, dead: 0 })
      expect(empty?.oldestPendingAgeMs).toBeNull()
      expect(empty?.newestEnqueuedAt).toBeNull()

      await enqueuePayloads(fx.store, name, [1, 2, 3])
      await fx.store.messages.enqueue(name, [{ payload: 4, delayMs: 60_000 }])
      expect(await fx.store.queues.metrics(name)).toMatchObject({
        pending: 3,
        delayed: 1,
        leased: 0,
      })

      const msg = await dequeueOne(fx.store, name)
      expect(await fx.store.queues.metrics(name)).toMatchObject({
        pending: 2,
        delayed: 1,
        leased: 1,
      })

      await fx.store.messages.archive([msg])
      const after = await fx.store.queues.metrics(name)
      expect(after).toMatchObject({ pending: 2, delayed: 1, leased: 0, archived: 1, dead: 0 })
      expect(after?.newestEnqueuedAt).toBeInstanceOf(Date)
    })

    it('metrics count a message failed with no attempts left as dead, and a retry as delayed', async () => {
      const name = await freshQueue(fx.store, 'metrics-dead')
      await fx.store.messages.enqueue(name, [
        { payload: 'dies', maxAttempts: 1 },
        { payload: 'retries', maxAttempts: 5 },
      ])
      const [dies, retries] = await fx.store.messages.dequeue(name, {
        batchSize: 2,
        leaseMs: 30_000,
      })
      const byPayload = new Map([dies, retries].map((m) => [m?.payload, m]))
      expect(await fx.store.messages.fail(byPayload.get('dies')!, 'fatal', 0)).toBe('dead')
      expect(await fx.store.messages.fail(byPayload.get('retries')!, 'later', 60_000)).toBe(
        'retried',
      )
      expect(await fx.store.queues.metrics(name)).toMatchObject({
        pending: 0,
        leased: 0,
        delayed: 1,
        archived: 0,
        dead: 1,
      })
    })

    it('oldestPendingAgeMs is set while a message is pending and null once none is', async () => {
      const name = await freshQueue(fx.store, 'metrics-age')
      await enqueuePayloads(fx.store, name, [{ n: 1 }])
      await sleep(30)
      const pending = await fx.store.queues.metrics(name)
      expect(pending?.oldestPendingAgeMs).not.toBeNull()
      expect(pending?.oldestPendingAgeMs).toBeGreaterThanOrEqual(0)
      expect(pending?.oldestPendingAgeMs).toBeLessThan(60_000)
      await dequeueOne(fx.store, name)
      expect((await fx.store.queues.metrics(name))?.oldestPendingAgeMs).toBeNull()
    })

    it('allMetrics has one entry per queue with the same counts as metrics', async () => {
      const a = await freshQueue(fx.store, 'all-metrics-a')
      const b = await freshQueue(fx.store, 'all-metrics-b')
      await enqueuePayloads(fx.store, a, [1, 2])
      await enqueuePayloads(fx.store, b, [1])
      await fx.store.messages.enqueue(b, [{ payload: 2, delayMs: 60_000 }])
      const all = await fx.store.queues.allMetrics()
      const names = all.map((m) => m.name)
      expect(new Set(names).size).toBe(names.length)
      const queues = await fx.store.queues.list()
      expect(names.sort()).toEqual(queues.map((q) => q.name).sort())
      expect(all.find((m) => m.name === a)).toMatchObject({ pending: 2, delayed: 0 })
      expect(all.find((m) => m.name === b)).toMatchObject({ pending: 1, delayed: 1 })
    })
  })
}
