import { LeaseLostError } from '@pgqrs/core'
import { consumer } from '@pgqrs/queue'
import { defineWorkflow, run, workflow, workflowWorker } from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { expectError, rejection, sleep, uniqueName, useStore, waitFor } from '../util.js'
import { FAST, getRun, mustNotRun, runnerTracker, waitForArchived } from './helpers.js'

/**
 * Redelivery of terminal runs (inventory 9.8: archived without running user code) and fencing of
 * step and run writes by the lease of the run's message (SPEC 1.3, 5.3).
 */
export function recoveryTests(harness: StoreHarness): void {
  describe('terminal redelivery and fencing', () => {
    const fx = useStore(harness)
    const track = runnerTracker()

    it('a run completed (or failed) whose message was not archived is archived on redelivery without running user code', async () => {
      const store = fx.store
      const calls = { n: 0 }
      const wf = defineWorkflow({ name: uniqueName('terminal'), run: mustNotRun(calls) })
      const ok = await wf.start(store, { n: 1 })
      const bad = await wf.start(store, { n: 2 })
      // A worker completes / fails each run, then dies before archiving (its 400 ms lease runs out).
      const leased = await store.messages.dequeue(wf.name, { batchSize: 2, leaseMs: 400 })
      expect(leased.map((m) => m.id).sort((x, y) => x - y)).toEqual([ok.messageId, bad.messageId])
      for (const msg of leased) {
        const r = await run().message(msg).store(store).execute()
        if (msg.id === ok.messageId) await r.complete({ done: true })
        else await r.fail(new Error('failed before the crash'))
      }
      expect((await getRun(store, ok.id)).status).toBe('SUCCESS')
      expect((await getRun(store, bad.id)).status).toBe('ERROR')

      await track(workflowWorker(store, [wf], FAST)).start()
      const m1 = await waitForArchived(store, ok.messageId)
      const m2 = await waitForArchived(store, bad.messageId)
      expect(m1.attempts, 'delivered again once').toBe(2)
      expect(m2.attempts).toBe(2)
      expect(calls.n).toBe(0)
      const r1 = await getRun(store, ok.id)
      expect([r1.status, r1.output]).toEqual(['SUCCESS', { done: true }])
      const r2 = await getRun(store, bad.id)
      expect(r2.status).toBe('ERROR')
      expect(r2.error).toMatchObject({ message: 'failed before the crash' })
      expect(await ok.result({ timeoutMs: 1_000 })).toEqual({ done: true })
      await track.stopAll()
    })

    it('a step longer than the lease keeps its lease (renewed while it runs): two workers, the step runs once', async () => {
      const store = fx.store
      let calls = 0
      const wf = defineWorkflow({
        name: uniqueName('long-step'),
        async run(ctx) {
          return ctx.step('slow', async () => {
            calls++
            await sleep(1_300)
            return 'slow done'
          })
        },
      })
      const h = await wf.start(store, {})
      // Lease 800 ms, renewed every 400 ms: the 1.3 s step outlives the lease more than once.
      const options = { ...FAST, leaseMs: 800 }
      await track(workflowWorker(store, [wf], options)).start()
      await track(workflowWorker(store, [wf], options)).start()
      expect(await h.result({ timeoutMs: 10_000 })).toBe('slow done')
      expect(calls).toBe(1)
      expect((await waitForArchived(store, h.messageId)).attempts).toBe(1)
      await track.stopAll()
    })

    it('a holder whose lease was taken over cannot record a step, acquire one, report a guard or complete the run; nothing changes', async () => {
      const store = fx.store
      const name = uniqueName('fencing')
      await workflow().name(name).store(store).create()
      const msg = await workflow().name(name).store(store).trigger({ n: 1 }).execute()
      const ca = await consumer(uniqueName('holder-a'), name).create(store)
      const cb = await consumer(uniqueName('holder-b'), name).create(store)

      const [a] = await ca.dequeue({ leaseMs: 300 })
      expect(a?.id).toBe(msg.id)
      const runA = await run().message(a!).store(store).execute()
      expect(await runA.step('first', () => 1)).toBe(1)
      const guarded = await runA.acquireStep('guarded')
      expect(guarded.status).toBe('EXECUTE')

      const b = await waitFor(async () => (await cb.dequeue({ leaseMs: 30_000 }))[0], {
        timeoutMs: 5_000,
        what: 'the second consumer leasing the message after the 300 ms lease',
      })
      expect(b.id).toBe(a!.id)
      const steps = await store.steps.list(runA.id)
      const before = await getRun(store, runA.id)
      expect(before.status).toBe('RUNNING')

      let calls = 0
      for (const attempt of [
        () => runA.step('second', () => ++calls),
        () => runA.acquireStep('third'),
        () => guarded.guard.success('late'),
        () => runA.complete({ by: 'A' }),
        () => runA.fail(new Error('A gives up')),
      ]) {
        expectError(await rejection(attempt()), LeaseLostError, 'LEASE_LOST')
      }
      expect(calls).toBe(0)
      expect(await store.steps.list(runA.id), 'steps after the refused writes').toEqual(steps)
      expect(await getRun(store, runA.id), 'run after the refused writes').toEqual(before)
      expect(await ca.archive(a!)).toBe(false)

      // The new holder replays the stored step and finishes the run.
      const runB = await run().message(b).store(store).execute()
      expect(await runB.step('first', () => 99)).toBe(1)
      const g = await runB.acquireStep('guarded')
      expect(g.status).toBe('EXECUTE')
      await g.guard.success('by B')
      expect((await runB.complete({ by: 'B' })).status).toBe('SUCCESS')
      expect(await cb.archive(b)).toBe(true)
      const done = await getRun(store, runB.id)
      expect(done.output).toEqual({ by: 'B' })
      expect((await store.steps.list(runB.id)).map((s) => [s.stepKey, s.status, s.output])).toEqual(
        [
          ['first', 'SUCCESS', 1],
          ['guarded', 'SUCCESS', 'by B'],
        ],
      )
    })
  })
}
