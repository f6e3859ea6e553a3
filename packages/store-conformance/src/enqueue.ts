import { QueueNotFoundError, ValidationError } from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from './harness.js'
import {
  CLOCK_SLACK_MS,
  dequeueOne,
  enqueuePayloads,
  expectError,
  expectTimeNear,
  freshQueue,
  rejection,
  totalMessages,
  uniqueName,
  useStore,
} from './util.js'

function nested(depth: number): unknown {
  let value: unknown = { leaf: 'bottom' }
  for (let i = 0; i < depth; i++) value = { a: value }
  return value
}

/** Payloads that must come back deep-equal. */
const ROUND_TRIP_PAYLOADS: readonly (readonly [label: string, payload: unknown])[] = [
  ['an object', { a: 1, b: 'two', c: [3, 4.5, -6], d: { e: null, f: true, g: false } }],
  ['an array', [1, 'x', null, { y: [] }]],
  ['an integer', 42],
  ['a fraction', -0.5],
  ['a string', 'plain string'],
  ['true', true],
  ['false', false],
  ['null', null],
  ['an empty object', {}],
  ['an empty array', []],
  ['an empty string', ''],
  ['unicode', { text: 'héllo wörld — 日本語 🚀 \u2028 "quotes" \\ back\nslash' }],
  ['nested 20 deep', nested(20)],
  ['large and small numbers', { big: Number.MAX_SAFE_INTEGER, small: -1e-7 }],
]

function cycle(): unknown {
  const bad: Record<string, unknown> = { x: 1 }
  bad.self = bad
  return { data: { bad } }
}

/** Invalid payloads: label, a factory (fresh per test), the fragments the message must name. */
const INVALID_PAYLOADS: readonly (readonly [string, () => unknown, readonly string[]])[] = [
  ['undefined', () => undefined, ['payload']],
  ['a BigInt', () => ({ data: { bad: 10n } }), ['data.bad']],
  ['a function', () => ({ data: { bad: () => 1 } }), ['data.bad']],
  ['a cycle', cycle, ['data.bad']],
  ['nesting 40 deep', () => ({ data: { bad: nested(40) } }), ['data.bad']],
  [
    'the key __proto__',
    () => ({ data: { bad: JSON.parse('{"__proto__":1}') } }),
    ['data.bad', '__proto__'],
  ],
  ['a Date', () => ({ data: { bad: new Date() } }), ['data.bad']],
  ['NaN', () => ({ data: { bad: Number.NaN } }), ['data.bad']],
  ['a 2 MiB string', () => ({ data: { bad: 'x'.repeat(2 * 1024 * 1024) } }), ['payload']],
]

/**
 * Registers the enqueue tests: results in input order, payload round trips, defaults, delays,
 * big batches, dedupe keys, a missing queue and batch validation (all or nothing).
 */
export function enqueueTests(harness: StoreHarness): void {
  describe('enqueue', () => {
    const fx = useStore(harness)

    it('returns one message per item, in input order, with ascending ids', async () => {
      const queue = await freshQueue(fx.store, 'enq-order')
      const record = await fx.store.queues.get(queue)
      const messages = await enqueuePayloads(fx.store, queue, ['a', 'b', 'c', 'd'])
      expect(messages.map((m) => m.payload)).toEqual(['a', 'b', 'c', 'd'])
      for (let i = 1; i < messages.length; i++) {
        expect(messages[i]!.id).toBeGreaterThan(messages[i - 1]!.id)
      }
      for (const m of messages) {
        expect(m.queue).toBe(queue)
        expect(m.queueId).toBe(record?.id)
      }
    })

    for (const [label, payload] of ROUND_TRIP_PAYLOADS) {
      it(`a payload of ${label} round-trips deep-equal through enqueue, get and dequeue`, async () => {
        const queue = await freshQueue(fx.store, 'enq-roundtrip')
        const [m] = await fx.store.messages.enqueue(queue, [{ payload }])
        expect(m!.payload).toEqual(payload)
        expect((await fx.store.messages.get(m!.id))?.payload).toEqual(payload)
        const delivered = await dequeueOne(fx.store, queue)
        expect(delivered.id).toBe(m!.id)
        expect(delivered.payload).toEqual(payload)
      })
    }

    it('fills defaults: priority 0, attempts 0, no lease, maxAttempts from config, visible now', async () => {
      const queue = await freshQueue(fx.store, 'enq-defaults')
      const before = Date.now()
      const [m] = await enqueuePayloads(fx.store, queue, [{ n: 1 }])
      expect(m).toMatchObject({
        priority: 0,
        attempts: 0,
        lease: null,
        maxAttempts: fx.store.config.maxAttempts,
        dedupeKey: null,
        lastError: null,
        archivedAt: null,
        deadAt: null,
        dequeuedAt: null,
      })
      expect(fx.store.config.maxAttempts).toBe(5)
      expectTimeNear(m!.enqueuedAt, before, CLOCK_SLACK_MS)
      expect(Math.abs(m!.visibleAt.getTime() - m!.enqueuedAt.getTime())).toBeLessThanOrEqual(5)
    })

    it('keeps per-item priority and maxAttempts', async () => {
      const queue = await freshQueue(fx.store, 'enq-options')
      const [m] = await fx.store.messages.enqueue(queue, [
        { payload: 1, priority: 7, maxAttempts: 3 },
      ])
      expect(m).toMatchObject({ priority: 7, maxAttempts: 3 })
      expect(await fx.store.messages.get(m!.id)).toMatchObject({ priority: 7, maxAttempts: 3 })
    })

    it('delayMs 5000 makes the message visible 5 s after enqueue, not now', async () => {
      const queue = await freshQueue(fx.store, 'enq-delay')
      const before = Date.now()
      const [m] = await fx.store.messages.enqueue(queue, [{ payload: 1, delayMs: 5_000 }])
      expect(
        Math.abs(m!.visibleAt.getTime() - m!.enqueuedAt.getTime() - 5_000),
      ).toBeLessThanOrEqual(50)
      expectTimeNear(m!.visibleAt, before + 5_000, CLOCK_SLACK_MS)
      expect(await fx.store.messages.dequeue(queue, { batchSize: 10, leaseMs: 1_000 })).toEqual([])
      expect(await fx.store.queues.metrics(queue)).toMatchObject({ pending: 0, delayed: 1 })
    })

    it('runAt in the future sets visibleAt to that instant; the message is not dequeued now', async () => {
      const queue = await freshQueue(fx.store, 'enq-runat')
      const runAt = new Date(Date.now() + 10_000)
      const [m] = await fx.store.messages.enqueue(queue, [{ payload: 1, runAt }])
      expectTimeNear(m!.visibleAt, runAt.getTime(), 1)
      expect(await fx.store.messages.dequeue(queue, { batchSize: 10, leaseMs: 1_000 })).toEqual([])
    })

    it('runAt comes back exactly, to the millisecond, from enqueue and get', async () => {
      const queue = await freshQueue(fx.store, 'enq-runat-exact')
      const base = Date.now() + 3_600_000
      const instants = Array.from({ length: 40 }, (_, k) => base + k * 1_237 + (k % 10) * 111 + k)
      const stored = await fx.store.messages.enqueue(
        queue,
        instants.map((t, i) => ({ payload: i, runAt: new Date(t) })),
      )
      expect(stored.map((m) => m.visibleAt.getTime())).toEqual(instants)
      for (const [i, m] of stored.entries()) {
        expect((await fx.store.messages.get(m.id))?.visibleAt.getTime()).toBe(instants[i])
      }
    })

    it('runAt in the past makes the message visible at once', async () => {
      const queue = await freshQueue(fx.store, 'enq-runat-past')
      const [m] = await fx.store.messages.enqueue(queue, [
        { payload: 1, runAt: new Date(Date.now() - 60_000) },
      ])
      expect((await dequeueOne(fx.store, queue)).id).toBe(m!.id)
    })

    it('a batch of 500 items inserts 500 messages', async () => {
      const queue = await freshQueue(fx.store, 'enq-500')
      const items = Array.from({ length: 500 }, (_, i) => ({ payload: { i } }))
      const messages = await fx.store.messages.enqueue(queue, items)
      expect(messages).toHaveLength(500)
      expect(new Set(messages.map((m) => m.id)).size).toBe(500)
      expect(messages.map((m) => (m.payload as { i: number }).i)).toEqual(items.map((_, i) => i))
      expect(await fx.store.messages.list(queue, { limit: 1000 })).toHaveLength(500)
      expect(await fx.store.queues.metrics(queue)).toMatchObject({ pending: 500 })
    })

    it('dedupeKey returns the active message instead of inserting a second one', async () => {
      const queue = await freshQueue(fx.store, 'enq-dedupe')
      const [first] = await fx.store.messages.enqueue(queue, [{ payload: 1, dedupeKey: 'k1' }])
      expect(first!.dedupeKey).toBe('k1')
      const [again] = await fx.store.messages.enqueue(queue, [{ payload: 2, dedupeKey: 'k1' }])
      expect(again!.id).toBe(first!.id)
      expect(again!.payload).toBe(1)
      await dequeueOne(fx.store, queue)
      const [whileLeased] = await fx.store.messages.enqueue(queue, [
        { payload: 3, dedupeKey: 'k1' },
      ])
      expect(whileLeased!.id).toBe(first!.id)
      const active = await fx.store.messages.list(queue)
      expect(active.map((m) => m.id)).toEqual([first!.id])
    })

    it('dedupeKey makes a new message once the first one is archived', async () => {
      const queue = await freshQueue(fx.store, 'enq-dedupe-archived')
      const [first] = await fx.store.messages.enqueue(queue, [{ payload: 1, dedupeKey: 'k' }])
      const leased = await dequeueOne(fx.store, queue)
      expect(await fx.store.messages.archive([leased])).toEqual([true])
      const [second] = await fx.store.messages.enqueue(queue, [{ payload: 2, dedupeKey: 'k' }])
      expect(second!.id).not.toBe(first!.id)
      expect(second!.payload).toBe(2)
      expect((await fx.store.messages.list(queue)).map((m) => m.id)).toEqual([second!.id])
    })

    it('two items with the same dedupeKey in one batch get the same message', async () => {
      const queue = await freshQueue(fx.store, 'enq-dedupe-batch')
      const [a, b, c] = await fx.store.messages.enqueue(queue, [
        { payload: 'a', dedupeKey: 'same' },
        { payload: 'b', dedupeKey: 'same' },
        { payload: 'c' },
      ])
      expect(b!.id).toBe(a!.id)
      expect(c!.id).not.toBe(a!.id)
      expect(await fx.store.messages.list(queue)).toHaveLength(2)
    })

    it('dedupe keys are per queue', async () => {
      const q1 = await freshQueue(fx.store, 'enq-dedupe-q1')
      const q2 = await freshQueue(fx.store, 'enq-dedupe-q2')
      const [a] = await fx.store.messages.enqueue(q1, [{ payload: 1, dedupeKey: 'shared' }])
      const [b] = await fx.store.messages.enqueue(q2, [{ payload: 1, dedupeKey: 'shared' }])
      expect(b!.id).not.toBe(a!.id)
      expect(b!.queue).toBe(q2)
    })

    it('enqueue inside store.transaction commits with the transaction', async () => {
      const queue = await freshQueue(fx.store, 'enq-tx-commit')
      const result = await fx.store.transaction(async (tx) => {
        const inserted = await tx.messages.enqueue(queue, [{ payload: 'a' }, { payload: 'b' }])
        return inserted.map((m) => m.id)
      })
      expect(result).toHaveLength(2)
      expect((await fx.store.messages.list(queue)).map((m) => m.id)).toEqual(result)
    })

    it('enqueue inside a transaction that throws is rolled back', async () => {
      const queue = await freshQueue(fx.store, 'enq-tx-rollback')
      const boom = new Error('business write failed')
      const e = await rejection(
        fx.store.transaction(async (tx) => {
          await tx.messages.enqueue(queue, [{ payload: 'never' }])
          throw boom
        }),
      )
      expect(e).toBe(boom)
      expect(await totalMessages(fx.store, queue)).toBe(0)
      expect(await fx.store.messages.list(queue)).toEqual([])
    })

    it('enqueue to a missing queue throws QueueNotFoundError and creates nothing', async () => {
      const queue = uniqueName('enq-missing')
      const e = await rejection(fx.store.messages.enqueue(queue, [{ payload: 1 }]))
      expectError(e, QueueNotFoundError, 'QUEUE_NOT_FOUND', queue)
      expect(await fx.store.queues.get(queue)).toBeNull()
    })

    for (const [label, make, fragments] of INVALID_PAYLOADS) {
      it(`a batch whose item 2 is ${label} throws ValidationError; nothing is inserted`, async () => {
        const queue = await freshQueue(fx.store, 'enq-invalid')
        const items = [
          { payload: { ok: 0 } },
          { payload: { ok: 1 } },
          { payload: make() },
          { payload: { ok: 3 } },
        ]
        const e = expectError(
          await rejection(fx.store.messages.enqueue(queue, items)),
          ValidationError,
          'VALIDATION',
          'index 2',
          ...fragments,
        )
        expect(e.message).not.toContain('index 0')
        expect(await fx.store.messages.list(queue)).toEqual([])
        expect(await totalMessages(fx.store, queue)).toBe(0)
      })
    }

    for (const delayMs of [-1, 1.5]) {
      it(`delayMs ${delayMs} throws ValidationError naming delayMs; nothing is inserted`, async () => {
        const queue = await freshQueue(fx.store, 'enq-bad-delay')
        const e = await rejection(
          fx.store.messages.enqueue(queue, [{ payload: 1 }, { payload: 2, delayMs }]),
        )
        expectError(e, ValidationError, 'VALIDATION', 'delayMs')
        expect(await totalMessages(fx.store, queue)).toBe(0)
      })
    }
  })
}
