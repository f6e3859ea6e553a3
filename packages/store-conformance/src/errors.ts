import {
  ConfigError,
  connect,
  InvalidStateTransitionError,
  NotFoundError,
  PgqrsError,
  QueueNotFoundError,
  SchemaNotInstalledError,
  type Store,
  ValidationError,
} from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from './harness.js'
import {
  dequeueOne,
  enqueuePayloads,
  expectError,
  freshQueue,
  rejection,
  takeOver,
  totalMessages,
  uniqueName,
  useStore,
} from './util.js'

/** Everything a test can count to prove that a refused call changed nothing. */
async function snapshot(store: Store): Promise<unknown> {
  const [queues, workflows, metrics] = await Promise.all([
    store.queues.list(),
    store.workflows.list(),
    store.queues.allMetrics(),
  ])
  return {
    queues: queues.map((q) => q.name).sort(),
    workflows: workflows.map((w) => w.name).sort(),
    metrics: metrics
      .map((m) => ({ ...m, oldestPendingAgeMs: m.oldestPendingAgeMs === null ? null : 'set' }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  }
}

/**
 * Registers the tests of SPEC section 9 at the store level: each bad input comes back as its typed
 * error (`is()`, `instanceof`, `code`, a message naming the problem) and changes no stored state.
 */
export function errorTests(harness: StoreHarness): void {
  describe('errors (SPEC section 9)', () => {
    const fx = useStore(harness)

    it('connect with an unknown scheme throws ConfigError listing the supported schemes', async () => {
      const e = expectError(await rejection(connect('mysql://x')), ConfigError, 'CONFIG', 'mysql')
      for (const scheme of ['postgres', 'sqlite', 'turso']) expect(e.message).toContain(scheme)
      expect(e.field).toBe('dsn')
    })

    it('connect with a malformed DSN throws ConfigError', async () => {
      for (const dsn of ['not a dsn', 'postgres://', 'sqlite://relative.db']) {
        expectError(await rejection(connect(dsn)), ConfigError, 'CONFIG', 'dsn')
      }
    })

    it('operations before install throw SchemaNotInstalledError telling to run install', async () => {
      const store = await harness.create({ migrate: false })
      try {
        const ops: readonly (readonly [string, () => Promise<unknown>])[] = [
          ['queues.ensure', () => store.queues.ensure('q')],
          ['messages.dequeue', () => store.messages.dequeue('q', { batchSize: 1, leaseMs: 1_000 })],
          ['workers.register', () => store.workers.register({ name: 'w', hostname: 'h', pid: 1 })],
          ['workflows.ensure', () => store.workflows.ensure('wf')],
          ['runs.list', () => store.runs.list()],
        ]
        for (const [label, op] of ops) {
          const e = await rejection(op())
          expect(SchemaNotInstalledError.is(e), label).toBe(true)
          expectError(e, SchemaNotInstalledError, 'SCHEMA_NOT_INSTALLED', 'install')
        }
        expect(await store.migrations()).toEqual([])
      } finally {
        await harness.destroy(store)
      }
    })

    it('enqueue to a missing queue throws QueueNotFoundError (a NotFoundError) and changes nothing', async () => {
      const before = await snapshot(fx.store)
      const queue = uniqueName('missing')
      const e = expectError(
        await rejection(fx.store.messages.enqueue(queue, [{ payload: 1 }, { payload: 2 }])),
        QueueNotFoundError,
        'QUEUE_NOT_FOUND',
        queue,
      )
      expect(e).toBeInstanceOf(NotFoundError)
      expect(e).toBeInstanceOf(PgqrsError)
      expect(e.name).toBe('QueueNotFoundError')
      expect(await snapshot(fx.store)).toEqual(before)
    })

    it('an invalid queue or workflow name throws ValidationError with the allowed pattern', async () => {
      const before = await snapshot(fx.store)
      const ops: readonly (readonly [string, () => Promise<unknown>])[] = [
        ['messages.enqueue', () => fx.store.messages.enqueue('bad name', [{ payload: 1 }])],
        [
          'messages.dequeue',
          () => fx.store.messages.dequeue('bad name', { batchSize: 1, leaseMs: 1_000 }),
        ],
        ['workflows.ensure', () => fx.store.workflows.ensure('bad name')],
        ['queues.create', () => fx.store.queues.create('-x')],
      ]
      for (const [label, op] of ops) {
        const e = await rejection(op())
        expect(ValidationError.is(e), `${label}: ${String(e)}`).toBe(true)
        expectError(e, ValidationError, 'VALIDATION', 'A-Za-z0-9')
      }
      expect(await snapshot(fx.store)).toEqual(before)
    })

    it('a payload that is not JSON throws ValidationError with field, value and allowed', async () => {
      const queue = await freshQueue(fx.store, 'err-payload')
      const e = expectError(
        await rejection(fx.store.messages.enqueue(queue, [{ payload: { when: { big: 1n } } }])),
        ValidationError,
        'VALIDATION',
        'when.big',
        'BigInt',
      )
      expect(e.name).toBe('ValidationError')
      expect(e.field).toContain('when.big')
      expect(typeof e.allowed).toBe('string')
      expect(e.allowed.length).toBeGreaterThan(0)
      expect(await totalMessages(fx.store, queue)).toBe(0)
    })

    it('bad numbers (delayMs, batchSize, leaseMs) throw ValidationError naming the option', async () => {
      const queue = await freshQueue(fx.store, 'err-numbers')
      await enqueuePayloads(fx.store, queue, [1])
      const leased = await dequeueOne(fx.store, queue)
      await enqueuePayloads(fx.store, queue, [2])
      const before = await snapshot(fx.store)
      const leasedBefore = await fx.store.messages.get(leased.id)
      const ops: readonly (readonly [string, () => Promise<unknown>])[] = [
        ['delayMs', () => fx.store.messages.enqueue(queue, [{ payload: 1, delayMs: -10 }])],
        ['delayMs', () => fx.store.messages.enqueue(queue, [{ payload: 1, delayMs: 0.25 }])],
        ['batchSize', () => fx.store.messages.dequeue(queue, { batchSize: 0, leaseMs: 1_000 })],
        [
          'batchSize',
          () => fx.store.messages.dequeue(queue, { batchSize: 100_000, leaseMs: 1_000 }),
        ],
        ['leaseMs', () => fx.store.messages.dequeue(queue, { batchSize: 1, leaseMs: 0 })],
        ['leaseMs', () => fx.store.messages.extendLease(leased, 0)],
        ['delayMs', () => fx.store.messages.release([leased], -1)],
      ]
      for (const [field, op] of ops) {
        const e = await rejection(op())
        expect(ValidationError.is(e), `${field}: ${String(e)}`).toBe(true)
        expectError(e, ValidationError, 'VALIDATION', field)
      }
      expect(await snapshot(fx.store)).toEqual(before)
      expect(await fx.store.messages.get(leased.id)).toEqual(leasedBefore)
    })

    it('archive, delete and extendLease with a stale lease return false and change nothing', async () => {
      const queue = await freshQueue(fx.store, 'err-stale')
      const { stale } = await takeOver(fx.store, queue)
      const before = await fx.store.messages.get(stale.id)
      expect(await fx.store.messages.archive([stale])).toEqual([false])
      expect(await fx.store.messages.delete([stale])).toEqual([false])
      expect(await fx.store.messages.extendLease(stale, 60_000)).toBe(false)
      expect(await fx.store.messages.get(stale.id)).toEqual(before)
    })

    it('an illegal worker transition throws InvalidStateTransitionError { from, to } naming both', async () => {
      const w = await fx.store.workers.register({
        name: uniqueName('err-worker'),
        hostname: 'h',
        pid: 1,
      })
      const e = expectError(
        await rejection(fx.store.workers.transition(w.id, 'interrupted')),
        InvalidStateTransitionError,
        'INVALID_STATE_TRANSITION',
        'ready',
        'interrupted',
      )
      expect(e).toMatchObject({
        from: 'ready',
        to: 'interrupted',
        name: 'InvalidStateTransitionError',
      })
      expect(await fx.store.workers.get(w.id)).toEqual(w)
    })

    it('an illegal run transition throws InvalidStateTransitionError { from, to } naming both', async () => {
      const workflow = uniqueName('err-wf')
      await fx.store.workflows.ensure(workflow)
      const { run } = await fx.store.runs.start(workflow, 1)
      const before = await fx.store.runs.get(run.id)
      const e = expectError(
        await rejection(
          fx.store.runs.transition(run.id, { to: 'SUCCESS', output: 1, lease: null }),
        ),
        InvalidStateTransitionError,
        'INVALID_STATE_TRANSITION',
        'QUEUED',
        'SUCCESS',
      )
      expect(e).toMatchObject({ from: 'QUEUED', to: 'SUCCESS' })
      const after = await fx.store.runs.get(run.id)
      expect(after?.status).toBe('QUEUED')
      expect(after).toEqual(before)
    })
  })
}
