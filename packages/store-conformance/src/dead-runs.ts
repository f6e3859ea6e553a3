import { describe, expect, it } from 'vitest'
import type { StoreHarness } from './harness.js'
import { sleep, uniqueName, useStore } from './util.js'

/**
 * A workflow run whose message dies (dead-lettered) must end ERROR, never stay RUNNING forever:
 * both when its lease expired on every attempt (crashing workers) and when it failed every time.
 */
export function deadRunTests(harness: StoreHarness): void {
  describe('runs of dead messages', () => {
    const fx = useStore(harness, { config: { maxAttempts: 2 } })

    it('a run whose message lease expires on every attempt ends ERROR when the message dies', async () => {
      const { store } = fx
      const wf = uniqueName('dead-expiry')
      await store.workflows.ensure(wf)
      const { run } = await store.runs.start(wf, { n: 1 })
      for (let i = 0; i < 2; i++) {
        const [m] = await store.messages.dequeue(wf, { batchSize: 1, leaseMs: 150 })
        expect(m?.id).toBe(run.messageId)
        await store.runs.transition(run.id, { to: 'RUNNING', lease: m!.lease })
        await sleep(250) // the "worker" crashed: its lease runs out
      }
      expect(await store.messages.dequeue(wf, { batchSize: 1, leaseMs: 150 })).toEqual([])
      const msg = await store.messages.get(run.messageId)
      expect(msg?.deadAt).toBeInstanceOf(Date)
      const after = await store.runs.get(run.id)
      expect(after?.status).toBe('ERROR')
      expect(JSON.stringify(after?.error)).toContain('dead-lettered')
      expect(after?.completedAt).toBeInstanceOf(Date)
    })

    it('a run whose message fails on every attempt ends ERROR; a finished run is left alone', async () => {
      const { store } = fx
      const wf = uniqueName('dead-fail')
      await store.workflows.ensure(wf)
      const other = uniqueName('dead-other')
      await store.workflows.ensure(other)
      const { run } = await store.runs.start(wf, {})
      const done = await store.runs.start(other, {})
      for (let i = 0; i < 2; i++) {
        const [m] = await store.messages.dequeue(wf, { batchSize: 1, leaseMs: 5_000 })
        expect(m?.id).toBe(run.messageId)
        expect(await store.messages.fail(m!, `boom ${i}`, 0)).toBe(i === 0 ? 'retried' : 'dead')
      }
      expect((await store.runs.get(run.id))?.status).toBe('ERROR')
      expect(JSON.stringify((await store.runs.get(run.id))?.error)).toContain('boom 1')
      // the other run's message was never touched: still QUEUED
      expect((await store.runs.get(done.run.id))?.status).toBe('QUEUED')
    })
  })
}
