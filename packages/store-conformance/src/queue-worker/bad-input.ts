import {
  ConfigError,
  InvalidStateTransitionError,
  LeaseLostError,
  MAX_DELAY_MS,
  NAME_PATTERN,
  QueueNotFoundError,
  RUN_AT_RANGE,
  ValidationError,
} from '@pgqrs/core'
import * as pgqrs from '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { expectError, freshQueue, rejection, uniqueName, useStore, waitFor } from '../util.js'
import { expectUnchanged, getMessage, snapshot, thrownBy } from './helpers.js'

function deep(levels: number): unknown {
  let v: unknown = 'leaf'
  for (let i = 0; i < levels; i++) v = { d: v }
  return v
}

function cyclic(): unknown {
  const o: { x: { self?: unknown } } = { x: {} }
  o.x.self = o
  return o
}

/** Bad payloads: a name, the payload, the path the error must name, and a fragment of the reason. */
const BAD_PAYLOADS: readonly [string, () => unknown, string, string][] = [
  ['undefined', () => undefined, 'payload', 'undefined'],
  ['BigInt', () => ({ total: 10n }), 'payload.total', 'BigInt'],
  ['function', () => ({ cb: () => 1 }), 'payload.cb', 'function'],
  ['cycle', cyclic, 'payload.x.self', 'cycle'],
  ['too large', () => ({ blob: 'x'.repeat(1024 * 1024 + 10) }), 'payload', 'bytes'],
  ['too deep', () => deep(40), `payload${'.d'.repeat(32)}`, 'deeper than 32'],
  [
    '__proto__ key',
    () => JSON.parse('{"ok":{"__proto__":{"admin":true}}}'),
    'payload.ok.__proto__',
    '__proto__',
  ],
]

/**
 * SPEC section 9 rows at the queue API: each asserts the typed error (`X.is(e)`), that the message
 * names what was wrong, and that nothing stored changed.
 */
export function badInputTests(harness: StoreHarness): void {
  describe('bad input (SPEC 9) at the queue API', () => {
    const fx = useStore(harness)

    it('an invalid queue name: store.queue, store.producer, producer(name, queue), enqueue().to()', async () => {
      const { store } = fx
      const before = await snapshot(store, null)
      for (const bad of ['bad name', '', '-leading-dash', 'x'.repeat(129), 'ünïcode']) {
        const e1 = expectError(
          await rejection(store.queue(bad)),
          ValidationError,
          'VALIDATION',
          'queue name',
          NAME_PATTERN.source,
        )
        expect(e1.field).toBe('queue name')
        expectError(
          await rejection(store.producer(bad)),
          ValidationError,
          'VALIDATION',
          'queue name',
        )
        expectError(
          await rejection(store.consumer(bad)),
          ValidationError,
          'VALIDATION',
          'queue name',
        )
      }
      expectError(
        thrownBy(() => pgqrs.producer('a', 'bad name')),
        ValidationError,
        'VALIDATION',
        '"bad name"',
        NAME_PATTERN.source,
      )
      expectError(
        thrownBy(() => pgqrs.consumer('a', 'bad name')),
        ValidationError,
        'VALIDATION',
        '"bad name"',
      )
      expectError(
        thrownBy(() => pgqrs.enqueue().to('bad name')),
        ValidationError,
        'VALIDATION',
        '"bad name"',
      )
      expectError(
        thrownBy(() => pgqrs.dequeue().from('bad name')),
        ValidationError,
        'VALIDATION',
        '"bad name"',
      )
      expectError(
        thrownBy(() => pgqrs.worker(store, 'bad name', () => {})),
        ValidationError,
        'VALIDATION',
        '"bad name"',
      )
      await expectUnchanged(store, null, before)
    })

    for (const [label, make, path, reason] of BAD_PAYLOADS) {
      it(`payload ${label}: ValidationError naming ${path}; enqueue and enqueueMany insert nothing`, async () => {
        const { store } = fx
        const q = await freshQueue(store, 'bad-payload')
        const producer = await store.producer<unknown>(q)
        await producer.enqueue({ existing: true })
        const before = await snapshot(store, q)
        const e1 = expectError(
          await rejection(producer.enqueue(make())),
          ValidationError,
          'VALIDATION',
          reason,
        )
        expect(e1.field).toBe(path)
        expect(e1.message).toContain(path)
        const e2 = expectError(
          await rejection(producer.enqueueMany([{ ok: 1 }, make(), { ok: 2 }])),
          ValidationError,
          'VALIDATION',
          'index 1',
          reason,
        )
        expect(e2.field).toBe(`[1].${path}`)
        expect(e2.message).toContain(path)
        const e3 = await rejection(
          pgqrs
            .enqueue()
            .messages([{ ok: 1 }, { ok: 2 }, make()])
            .to(q)
            .execute(store),
        )
        expectError(e3, ValidationError, 'VALIDATION', 'index 2', reason)
        await expectUnchanged(store, q, before)
      })
    }

    it('delayMs -1 or 1.5, priority 0.5, maxAttempts 0, runAt invalid: ValidationError, nothing inserted', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'bad-options')
      const producer = await store.producer(q)
      const before = await snapshot(store, q)
      const cases: [Record<string, unknown>, string][] = [
        [{ delayMs: -1 }, 'delayMs'],
        [{ delayMs: 1.5 }, 'delayMs'],
        [{ priority: 0.5 }, 'priority'],
        [{ maxAttempts: 0 }, 'maxAttempts'],
        [{ runAt: new Date(Number.NaN) }, 'runAt'],
      ]
      for (const [options, field] of cases) {
        const e = expectError(
          await rejection(producer.enqueue({ n: 1 }, options)),
          ValidationError,
          'VALIDATION',
          field,
        )
        expect(e.field).toBe(field)
        expectError(
          await rejection(producer.enqueueMany([{ n: 1 }, { n: 2 }], options)),
          ValidationError,
          'VALIDATION',
          field,
        )
      }
      expectError(
        thrownBy(() => pgqrs.enqueue().delay(-1)),
        ValidationError,
        'VALIDATION',
        'delayMs',
      )
      await expectUnchanged(store, q, before)
    })

    it('batchSize 0 / 1001 and leaseMs 0 / -5: ValidationError, nothing leased', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'bad-dequeue')
      const producer = await store.producer(q)
      const consumer = await store.consumer(q)
      await producer.enqueue({ n: 1 })
      const before = await snapshot(store, q)
      for (const batchSize of [0, 1001, 2.5]) {
        const e = expectError(
          await rejection(consumer.dequeue({ batchSize })),
          ValidationError,
          'VALIDATION',
          'batchSize',
        )
        expect(e.field).toBe('batchSize')
        expect(e.message).toContain('1000')
      }
      for (const leaseMs of [0, -5]) {
        expectError(
          await rejection(consumer.dequeue({ leaseMs })),
          ValidationError,
          'VALIDATION',
          'leaseMs',
        )
      }
      expectError(
        thrownBy(() => pgqrs.dequeue().batch(0)),
        ValidationError,
        'VALIDATION',
        'batch',
      )
      expectError(
        thrownBy(() => pgqrs.dequeue().batch(1001)),
        ValidationError,
        'VALIDATION',
        'batch',
      )
      expectError(
        thrownBy(() => pgqrs.dequeue().leaseMs(0)),
        ValidationError,
        'VALIDATION',
        'leaseMs',
      )
      await expectUnchanged(store, q, before)
      // extendLease / release of a held message with bad numbers change nothing either.
      const [m] = await consumer.dequeue({ leaseMs: 30_000 })
      const held = await getMessage(store, m!.id)
      expectError(
        await rejection(consumer.extendLease(m!, 0)),
        ValidationError,
        'VALIDATION',
        'leaseMs',
      )
      expectError(
        await rejection(consumer.release(m!, { delayMs: -1 })),
        ValidationError,
        'VALIDATION',
        'delayMs',
      )
      expectError(
        await rejection(consumer.fail(m!, 'x', { delayMs: -1 })),
        ValidationError,
        'VALIDATION',
        'delayMs',
      )
      expect(await getMessage(store, m!.id)).toEqual(held)
    })

    it('enqueue to a missing queue: QueueNotFoundError naming it; the queue is not created', async () => {
      const { store } = fx
      const missing = uniqueName('missing')
      const before = await snapshot(store, null)
      const e1 = expectError(
        await rejection(store.producer(missing)),
        QueueNotFoundError,
        'QUEUE_NOT_FOUND',
        missing,
        'store.queue(',
      )
      expect(e1.id).toBe(missing)
      expectError(
        await rejection(store.consumer(missing)),
        QueueNotFoundError,
        'QUEUE_NOT_FOUND',
        missing,
      )
      const direct = new pgqrs.Producer(store, missing)
      expectError(
        await rejection(direct.enqueue({ n: 1 })),
        QueueNotFoundError,
        'QUEUE_NOT_FOUND',
        missing,
      )
      expectError(
        await rejection(direct.enqueueMany([{ n: 1 }, { n: 2 }])),
        QueueNotFoundError,
        'QUEUE_NOT_FOUND',
        missing,
      )
      expectError(
        await rejection(pgqrs.enqueue().message({ n: 1 }).to(missing).execute(store)),
        QueueNotFoundError,
        'QUEUE_NOT_FOUND',
        missing,
      )
      expect(await store.queues.get(missing)).toBeNull()
      const after = await snapshot(store, null)
      // The builder may register this process's identity once; nothing else changes.
      expect(after.queues).toEqual(before.queues)
      expect(after.workers - before.workers).toBeLessThanOrEqual(1)
    })

    it('a stale lease: false from the lease operations, LeaseLostError from *OrThrow; nothing changes', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'stale-row')
      const producer = await store.producer(q)
      const consumer = await store.consumer(q)
      await producer.enqueue({ n: 1 })
      const [stale] = await consumer.dequeue({ leaseMs: 150 })
      const current = await waitFor(async () => (await consumer.dequeue({ leaseMs: 30_000 }))[0])
      const before = await snapshot(store, q)
      expect(await consumer.archive(stale!)).toBe(false)
      expect(await consumer.delete(stale!)).toBe(false)
      expect(await consumer.extendLease(stale!, 1_000)).toBe(false)
      expectError(
        await rejection(consumer.archiveOrThrow(stale!)),
        LeaseLostError,
        'LEASE_LOST',
        `message ${stale!.id}`,
      )
      expectError(
        await rejection(consumer.deleteOrThrow(stale!)),
        LeaseLostError,
        'LEASE_LOST',
        `message ${stale!.id}`,
      )
      await expectUnchanged(store, q, before)
      expect(await consumer.archive(current)).toBe(true)
    })

    it('one set of bounds on every backend: huge delays, instants out of range, a pid past 2^31 are ValidationErrors naming the range', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'bounds')
      const producer = await store.producer(q)
      const huge = 2 ** 53 - 1
      const refused: readonly (readonly [string, () => Promise<unknown>])[] = [
        ['delayMs', () => producer.enqueue({ n: 1 }, { delayMs: huge })],
        ['runAt', () => producer.enqueue({ n: 1 }, { runAt: new Date(Date.UTC(10_000, 0, 1)) })],
        ['runAt', () => producer.enqueue({ n: 1 }, { runAt: new Date(-1) })],
        ['olderThanMs', () => pgqrs.admin(store).purgeArchived({ olderThanMs: huge })],
        [
          'pid',
          () => store.workers.register({ name: uniqueName('pid'), hostname: 'h', pid: 2 ** 31 }),
        ],
        [
          'hostname',
          () => store.workers.register({ name: uniqueName('h'), hostname: 'a\u0000b', pid: 1 }),
        ],
        [
          'hostname',
          () => store.workers.register({ name: uniqueName('h'), hostname: '\ud800', pid: 1 }),
        ],
        [
          'hostname',
          () =>
            store.workers.register({ name: uniqueName('h'), hostname: 'h'.repeat(256), pid: 1 }),
        ],
        ['staleAfterMs', () => store.workers.markStale(huge)],
        ['delayMs', () => store.messages.reschedule(1, huge)],
      ]
      for (const [field, call] of refused) {
        const e = expectError(await rejection(call()), ValidationError, 'VALIDATION', field)
        expect(e.allowed, field).toMatch(/\d/)
      }
      expect(await store.messages.list(q)).toEqual([])
      // the largest allowed values are stored and read back as valid instants on every backend
      const far = await producer.enqueue({ n: 2 }, { delayMs: MAX_DELAY_MS })
      expect(Number.isNaN(far.visibleAt.getTime())).toBe(false)
      expect(far.visibleAt.getTime()).toBeGreaterThan(Date.now() + MAX_DELAY_MS - 60_000)
      const late = await producer.enqueue({ n: 3 }, { runAt: RUN_AT_RANGE.max })
      expect(late.visibleAt.getTime()).toBe(RUN_AT_RANGE.max.getTime())
      expect(await pgqrs.admin(store).purgeArchived({ olderThanMs: MAX_DELAY_MS })).toBe(0)
    })

    it('a bare id instead of the message: ValidationError saying to pass the message; nothing changes', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'bare-id')
      const producer = await store.producer(q)
      const consumer = await store.consumer(q)
      await producer.enqueue({ n: 1 })
      const [msg] = await consumer.dequeue({ leaseMs: 30_000 })
      const before = await snapshot(store, q)
      for (const call of [
        () => consumer.archive(msg!.id as never),
        () => consumer.delete(msg!.id as never),
        () => consumer.extendLease(msg!.id as never, 1_000),
        () => consumer.release(msg!.id as never),
        () => store.messages.archive([msg!.id as never]),
      ]) {
        const e = expectError(
          await rejection(call()),
          ValidationError,
          'VALIDATION',
          'pass the message',
        )
        expect(e.message).toContain(`id ${msg!.id}`)
      }
      await expectUnchanged(store, q, before)
      expect(await consumer.archive(msg!)).toBe(true)
    })

    it('a run or step write without a lease is refused (pass lease: null for an operator change)', async () => {
      const { store } = fx
      const wf = uniqueName('no-lease')
      await store.workflows.ensure(wf)
      const { run } = await store.runs.start(wf, {})
      const e = expectError(
        await rejection(store.runs.transition(run.id, { to: 'RUNNING' } as never)),
        ValidationError,
        'VALIDATION',
        'lease: null',
      )
      expect(e.field).toBe('lease')
      for (const call of [
        () => store.steps.acquire(run.id, 's', undefined as never),
        () => store.steps.complete(run.id, 's', 1, undefined as never),
        () => store.steps.fail(run.id, 's', {}, null, undefined as never),
        () => store.steps.retry(run.id, 's', undefined as never),
      ]) {
        expectError(await rejection(call()), ValidationError, 'VALIDATION', 'lease')
      }
      expect((await store.runs.get(run.id))?.status).toBe('QUEUED')
      expect(await store.steps.list(run.id)).toEqual([])
      expect((await store.runs.transition(run.id, { to: 'RUNNING', lease: null })).status).toBe(
        'RUNNING',
      )
    })

    it('a handler error holding NUL or a lone surrogate is stored cleaned: the retry is scheduled, nothing lost', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'dirty-fail')
      await (await store.producer(q)).enqueue({ n: 1 })
      const consumer = await store.consumer(q)
      const [msg] = await consumer.dequeue({ leaseMs: 30_000 })
      expect(await consumer.fail(msg!, new Error('a\u0000b \uD800 c'), { delayMs: 0 })).toBe(
        'retried',
      )
      const stored = await getMessage(store, msg!.id)
      expect(stored.lastError).toContain('a' + 'b \uFFFD c')
      expect(stored.lastError).not.toContain('\u0000')
      expect(stored.lease).toBeNull()
    })

    it('an illegal worker transition: InvalidStateTransitionError {from, to}; status unchanged', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'bad-transition')
      const name = uniqueName('ready-worker')
      await pgqrs.consumer(name, q).create(store)
      const before = await snapshot(store, q)
      const e = expectError(
        await rejection(pgqrs.admin(store).shutdownWorker(name)),
        InvalidStateTransitionError,
        'INVALID_STATE_TRANSITION',
        'ready',
        'stopped',
        'allowed only from',
      )
      expect({ from: e.from, to: e.to }).toEqual({ from: 'ready', to: 'stopped' })
      expect((await store.workers.getByName(name))?.status).toBe('ready')
      await expectUnchanged(store, q, before)
    })

    it('bad worker options: ConfigError naming the option, nothing registered', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'bad-worker')
      const before = await snapshot(store, q)
      const cases: [Record<string, unknown>, string][] = [
        [{ concurrency: 0 }, 'concurrency'],
        [{ concurrency: 1.5 }, 'concurrency'],
        [{ batchSize: 0 }, 'batchSize'],
        [{ batchSize: 1001 }, 'batchSize'],
        [{ leaseMs: 0 }, 'leaseMs'],
        [{ pollIntervalMs: -1 }, 'pollIntervalMs'],
        [{ graceMs: -1 }, 'graceMs'],
      ]
      for (const [options, field] of cases) {
        const e = expectError(
          thrownBy(() => pgqrs.worker(store, q, () => {}, options)),
          ConfigError,
          'CONFIG',
          field,
        )
        expect(e.field).toBe(field)
      }
      await expectUnchanged(store, q, before)
    })

    it('builders: no messages, no queue, a single handler with batch 2 → ValidationError with the documented text', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'bad-builder')
      const producer = await store.producer(q)
      const msg = await producer.enqueue({ n: 1 })
      const before = await snapshot(store, q)
      expectError(
        await rejection(pgqrs.enqueue().to(q).execute(store)),
        ValidationError,
        'VALIDATION',
        'No messages to enqueue: call .message() or .messages() before .execute()',
      )
      expectError(
        await rejection(pgqrs.enqueue().messages([]).to(q).execute(store)),
        ValidationError,
        'VALIDATION',
        'No messages to enqueue',
      )
      expectError(
        await rejection(pgqrs.enqueue().message({ n: 1 }).execute(store)),
        ValidationError,
        'VALIDATION',
        'No queue to enqueue to: call .to(queue) (or .worker(producer)) before .execute()',
      )
      let called = false
      expectError(
        await rejection(
          pgqrs
            .dequeue()
            .from(q)
            .batch(2)
            .handle(() => {
              called = true
            })
            .execute(store),
        ),
        ValidationError,
        'VALIDATION',
        'single-message handlers require batch size = 1, got 2: use .handleBatch()',
      )
      expectError(
        await rejection(pgqrs.dequeue().from(q).execute(store)),
        ValidationError,
        'VALIDATION',
        'No handler: call .handle(fn) or .handleBatch(fn) before .execute()',
      )
      expectError(
        await rejection(
          pgqrs
            .dequeue()
            .handle(() => {})
            .execute(store),
        ),
        ValidationError,
        'VALIDATION',
        'No queue to dequeue from',
      )
      expect(called).toBe(false)
      await expectUnchanged(store, q, before)
      expect((await getMessage(store, msg.id)).attempts).toBe(0)
    })
  })
}
