import { defineWorkflow, workflowWorker } from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { sleep, uniqueName, useStore } from '../util.js'
import { FAST, runnerTracker } from './helpers.js'

/**
 * Parallel steps (issue 15, item 5): `Promise.all` over `ctx.step` calls runs them concurrently,
 * records each, and a replay gives the same results to the same call sites (keys are taken in call
 * order, so repeated names in a fan-out get `name`, `name#2`, … deterministically).
 */
export function parallelStepTests(harness: StoreHarness): void {
  describe('parallel steps', () => {
    const fx = useStore(harness)
    const track = runnerTracker()

    it('Promise.all of two steps runs both at once, records both, and a replay returns the same results to the same call sites without running them again', async () => {
      const store = fx.store
      const calls: string[] = []
      const spans: Record<string, [number, number]> = {}
      let deliveries = 0
      const replays: unknown[] = []
      const wf = defineWorkflow({
        name: uniqueName('parallel'),
        async run(ctx) {
          deliveries++
          const timed = (name: string, value: string) =>
            ctx.step(name, async () => {
              calls.push(name)
              const t0 = Date.now()
              await sleep(250)
              spans[name] = [t0, Date.now()]
              return value
            })
          const [a, b] = await Promise.all([timed('a', 'A'), timed('b', 'B')])
          // a fan-out over one name: keys item, item#2, item#3 by call order
          const items = await Promise.all(
            [3, 1, 2].map((n) =>
              ctx.step('item', async () => {
                await sleep(n * 30)
                return n * 10
              }),
            ),
          )
          replays.push({ a, b, items })
          // a new delivery after this: everything above is replayed from the store
          await ctx.sleep('between', 100)
          return { a, b, items }
        },
      })
      await track(workflowWorker(store, [wf], FAST)).start()
      const h = await wf.start(store, {})
      const out = await h.result({ timeoutMs: 10_000 })
      expect(out).toEqual({ a: 'A', b: 'B', items: [30, 10, 20] })
      expect(deliveries).toBe(2)
      expect(replays).toEqual([out, out])
      expect(calls.sort()).toEqual(['a', 'b'])
      // concurrent: b started before a finished (and the other way round)
      expect(spans.b![0]).toBeLessThan(spans.a![1])
      expect(spans.a![0]).toBeLessThan(spans.b![1])
      const steps = new Map(
        (await store.steps.list(h.id)).map((s) => [s.stepKey, [s.status, s.output]]),
      )
      expect(Object.fromEntries(steps)).toMatchObject({
        a: ['SUCCESS', 'A'],
        b: ['SUCCESS', 'B'],
        item: ['SUCCESS', 30],
        'item#2': ['SUCCESS', 10],
        'item#3': ['SUCCESS', 20],
      })
      await track.stopAll()
    })

    it('when one of two parallel steps fails and is retried, the other is recorded once and not run again', async () => {
      const store = fx.store
      const calls: Record<string, number> = { ok: 0, flaky: 0 }
      const wf = defineWorkflow({
        name: uniqueName('parallel-retry'),
        retry: { maxAttempts: 3, backoff: { kind: 'fixed', delayMs: 50 } },
        async run(ctx) {
          return Promise.all([
            ctx.step('ok', async () => {
              calls.ok!++
              await sleep(50)
              return 'fine'
            }),
            ctx.step('flaky', async () => {
              calls.flaky!++
              if (calls.flaky === 1) throw new Error('first try fails')
              return 'recovered'
            }),
          ])
        },
      })
      await track(workflowWorker(store, [wf], FAST)).start()
      const h = await wf.start(store, {})
      expect(await h.result({ timeoutMs: 10_000 })).toEqual(['fine', 'recovered'])
      expect(calls).toEqual({ ok: 1, flaky: 2 })
      await track.stopAll()
    })
  })
}
