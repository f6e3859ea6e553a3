import { describe, expect, it } from 'vitest'
import type { DrainRecord } from './children/protocol.js'
import { type ChildHandle, forkChild } from './fork-child.js'
import type { StoreHarness } from './harness.js'
import { planned } from './plan.js'
import { freshQueue, useStore, waitFor } from './util.js'

const CHILDREN = 8
const MESSAGES = 10_000
const DRAIN_LEASE_MS = 30_000

/**
 * Checks the deliveries reported by the drain children: every message archived exactly once, and
 * a message delivered twice only after the earlier lease ran out.
 */
function checkDeliveries(records: readonly DrainRecord[], expectedIds: readonly number[]): void {
  const byId = new Map<number, DrainRecord[]>()
  for (const r of records) {
    const list = byId.get(r[0]) ?? []
    list.push(r)
    byId.set(r[0], list)
  }
  expect(byId.size).toBe(expectedIds.length)
  for (const id of expectedIds) expect(byId.has(id), `message ${id} was never delivered`).toBe(true)
  const archivedTrue = records.filter((r) => r[5]).length
  const archivedFalse = records.filter((r) => !r[5]).length
  expect({ archivedTrue, archivedFalse }).toEqual({
    archivedTrue: expectedIds.length,
    archivedFalse: 0,
  })
  const tokens = records.map((r) => r[1])
  expect(tokens.every((t) => typeof t === 'string' && t.length > 0)).toBe(true)
  expect(new Set(tokens).size).toBe(tokens.length)
  const overlapping: number[] = []
  for (const [id, list] of byId) {
    if (list.length < 2) continue
    const sorted = [...list].sort((a, b) => a[3] - b[3])
    for (let i = 1; i < sorted.length; i++) {
      const earlierLeaseEnd = sorted[i - 1]![4]
      const laterStart = sorted[i]![3]
      if (laterStart < earlierLeaseEnd) overlapping.push(id)
    }
  }
  expect(overlapping, 'messages leased by two holders at the same time').toEqual([])
  const redelivered = [...byId.values()].filter((l) => l.length > 1).length
  expect(redelivered, `with a ${DRAIN_LEASE_MS} ms lease no message may be delivered twice`).toBe(0)
}

/**
 * Registers the multi-process tests (only for `capabilities.concurrency === 'multi-process'`):
 * 8 forked consumers drain 10 000 messages, each archived exactly once; and a consumer SIGKILLed
 * while it holds a lease loses the message to the next consumer once the lease ran out.
 */
export function multiProcessTests(harness: StoreHarness): void {
  // Registered only where it applies (conformancePlan says which suites a store gets, and why).
  if (!planned(harness, 'multi-process')) return
  describe("multi-process (only when capabilities.concurrency is 'multi-process')", () => {
    const fx = useStore(harness)

    it(`${CHILDREN} processes drain ${MESSAGES} messages: each archived exactly once, never leased twice`, async () => {
      const queue = await freshQueue(fx.store, 'mp-drain')
      const ids: number[] = []
      for (let start = 0; start < MESSAGES; start += 1_000) {
        const items = Array.from({ length: 1_000 }, (_, i) => ({ payload: { n: start + i } }))
        ids.push(...(await fx.store.messages.enqueue(queue, items)).map((m) => m.id))
      }
      expect(new Set(ids).size).toBe(MESSAGES)
      const { dsn, config } = harness.connection(fx.store)
      const children: ChildHandle[] = []
      try {
        for (let i = 0; i < CHILDREN; i++) {
          children.push(
            forkChild('drain', { dsn, config, queue, batchSize: 10, leaseMs: DRAIN_LEASE_MS }),
          )
        }
        await Promise.all(children.map((c) => c.next('ready')))
        for (const c of children) c.go()
        const reports = await Promise.all(children.map((c) => c.next('drained', 110_000)))
        const exits = await Promise.all(children.map((c) => c.exited))
        expect(exits.map((e) => e.code)).toEqual(children.map(() => 0))
        checkDeliveries(
          reports.flatMap((r) => r.records),
          ids,
        )
        expect(await fx.store.queues.metrics(queue)).toMatchObject({
          pending: 0,
          leased: 0,
          delayed: 0,
          dead: 0,
          archived: MESSAGES,
        })
      } finally {
        for (const c of children) c.kill()
      }
    }, 120_000)

    it('a consumer SIGKILLed while holding a 500 ms lease loses the message after expiry', async () => {
      const queue = await freshQueue(fx.store, 'mp-crash')
      const [enqueued] = await fx.store.messages.enqueue(queue, [{ payload: { crash: true } }])
      const { dsn, config } = harness.connection(fx.store)
      const child = forkChild('hold', { dsn, config, queue, leaseMs: 500 })
      try {
        await child.next('ready')
        child.go()
        const held = await child.next('leased')
        expect(held).toMatchObject({ id: enqueued!.id, attempts: 1 })
        child.kill()
        const exit = await child.exited
        expect(exit.signal).toBe('SIGKILL')
        const stored = await fx.store.messages.get(held.id)
        expect(stored?.lease).toBe(held.lease)
        const taken = await waitFor(
          async () =>
            (await fx.store.messages.dequeue(queue, { batchSize: 1, leaseMs: 30_000 }))[0],
          { what: 'the dead consumer message to come back', timeoutMs: 10_000 },
        )
        expect(taken.id).toBe(held.id)
        expect(taken.attempts).toBe(2)
        expect(taken.lease).not.toBe(held.lease)
        expect(taken.visibleAt.getTime() - 30_000).toBeGreaterThanOrEqual(held.visibleAtMs)
        expect(await fx.store.messages.archive([{ id: held.id, lease: held.lease }])).toEqual([
          false,
        ])
        expect(await fx.store.messages.get(held.id)).toMatchObject({
          lease: taken.lease,
          archivedAt: null,
        })
        expect(await fx.store.messages.archive([taken])).toEqual([true])
      } finally {
        child.kill()
      }
    }, 30_000)
  })
}
