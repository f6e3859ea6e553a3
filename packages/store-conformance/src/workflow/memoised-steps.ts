import { defineWorkflow, pauseError, workflowWorker } from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { uniqueName, useStore } from '../util.js'
import { FAST, getMessage, getRun, runnerTracker, stepSummary, waitForRun } from './helpers.js'

/**
 * Memoised steps (SPEC 5.3): repeated names get occurrence keys (`fetch`, `fetch#2`, …), and a
 * second delivery of the run replays the stored outputs in order without calling the functions.
 */
export function memoisedStepTests(harness: StoreHarness): void {
  describe('memoised steps', () => {
    const fx = useStore(harness)
    const track = runnerTracker()

    it('a long step shows RUNNING while it runs; every step ends SUCCESS with its start and end times', async () => {
      const store = fx.store
      let seenWhileRunning: string | undefined
      const wf = defineWorkflow({
        name: uniqueName('visible'),
        async run(ctx) {
          const a = await ctx.step('quick', () => 1)
          const b = await ctx.step('long', async () => {
            await new Promise((r) => setTimeout(r, 400))
            seenWhileRunning = (await store.steps.get(ctx.runId, 'long'))?.status
            return 2
          })
          return a + b
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      expect(await h.result({ timeoutMs: 10_000 })).toBe(3)
      expect(seenWhileRunning).toBe('RUNNING')
      const steps = await store.steps.list(h.id)
      expect(steps.map((s) => [s.stepKey, s.status, s.output])).toEqual([
        ['quick', 'SUCCESS', 1],
        ['long', 'SUCCESS', 2],
      ])
      for (const s of steps) {
        expect(s.startedAt).toBeInstanceOf(Date)
        expect(s.completedAt!.getTime()).toBeGreaterThanOrEqual(s.startedAt!.getTime())
      }
      const long = steps[1]!
      expect(long.completedAt!.getTime() - long.startedAt!.getTime()).toBeGreaterThanOrEqual(250)
      await track.stopAll()
    })

    it('a loop of 5 steps named fetch stores fetch, fetch#2 … fetch#5; the replay after a pause returns them in order without calling them again', async () => {
      const store = fx.store
      const calls: number[] = []
      let deliveries = 0
      const replayed: number[][] = []
      const wf = defineWorkflow({
        name: uniqueName('loop'),
        async run(ctx) {
          deliveries++
          const out: number[] = []
          for (let i = 0; i < 5; i++) {
            out.push(
              await ctx.step('fetch', () => {
                calls.push(i)
                // Not derivable from i alone: a replay must return the stored value.
                return i * 10 + calls.length
              }),
            )
          }
          replayed.push(out)
          if (deliveries === 1) throw pauseError(200, 'force a second delivery')
          return out
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      const output = await h.result({ timeoutMs: 10_000 })

      expect(deliveries).toBe(2)
      expect(calls).toEqual([0, 1, 2, 3, 4])
      const expected = [1, 12, 23, 34, 45]
      expect(replayed).toEqual([expected, expected])
      expect(output).toEqual(expected)
      expect(await stepSummary(store, h.id)).toEqual([
        ['fetch', 'SUCCESS', 1],
        ['fetch#2', 'SUCCESS', 12],
        ['fetch#3', 'SUCCESS', 23],
        ['fetch#4', 'SUCCESS', 34],
        ['fetch#5', 'SUCCESS', 45],
      ])
      const run = await getRun(store, h.id)
      expect(run.status).toBe('SUCCESS')
      // The pause is not a failed delivery: the message was delivered twice, counted once.
      const m = await getMessage(store, h.messageId)
      expect(m.archivedAt).toBeInstanceOf(Date)
      expect(m.attempts).toBe(1)
      await track.stopAll()
    })

    it('a paused run is PAUSED with its wake time until the pause ends', async () => {
      const store = fx.store
      let deliveries = 0
      let pausedAt = 0
      const wf = defineWorkflow({
        name: uniqueName('pause'),
        async run(ctx) {
          deliveries++
          await ctx.step('before', () => 'b')
          if (deliveries === 1) {
            pausedAt = Date.now()
            throw pauseError(700, 'waiting for approval')
          }
          return ctx.step('after', () => Date.now())
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      const paused = await waitForRun(store, h.id, 'PAUSED', 5_000)
      expect(paused.wakeAt).toBeInstanceOf(Date)
      expect(Math.abs(paused.wakeAt!.getTime() - (pausedAt + 700))).toBeLessThan(500)
      const afterAt = (await h.result({ timeoutMs: 10_000 })) as number
      expect(afterAt - pausedAt).toBeGreaterThanOrEqual(690)
      expect(deliveries).toBe(2)
      expect(await stepSummary(store, h.id)).toEqual([
        ['before', 'SUCCESS', 'b'],
        ['after', 'SUCCESS', afterAt],
      ])
      await track.stopAll()
    })
  })
}
