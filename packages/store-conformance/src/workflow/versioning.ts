import { admin } from '@pgqrs/queue'
import {
  defineWorkflow,
  NonDeterminismError,
  WorkflowFailedError,
  workflowWorker,
} from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { expectError, rejection, sleep, uniqueName, useStore } from '../util.js'
import { FAST, runnerTracker, waitForRun } from './helpers.js'

/**
 * Versioning (issue 15, item 6): runs record their version, a worker only claims runs of the
 * versions it registers, a replay whose step sequence diverges from the stored one ends with a
 * `NonDeterminismError` naming both steps, and `ctx.patched(id)` lets old and new runs share code.
 */
export function versioningTests(harness: StoreHarness): void {
  describe('versioning', () => {
    const fx = useStore(harness)
    const track = runnerTracker()

    it('a worker registering only version 2 never claims a version 1 run; a worker with both finishes it', async () => {
      const store = fx.store
      const name = uniqueName('versioned')
      const v1 = defineWorkflow({
        name,
        async run(ctx) {
          return ctx.step('old', () => `v1 ran version ${ctx.version}`)
        },
      })
      const v2 = defineWorkflow({
        name,
        version: 2,
        async run(ctx) {
          return ctx.step('new', () => `v2 ran version ${ctx.version}`)
        },
      })
      expect([v1.queue, v2.queue]).toEqual([name, `${name}:v2`])
      const old = await v1.start(store, {})
      const young = await v2.start(store, {})
      expect((await old.status()).version).toBe(1)
      expect((await young.status()).version).toBe(2)

      const onlyV2 = track(workflowWorker(store, [v2], FAST))
      await onlyV2.start()
      expect(await young.result({ timeoutMs: 10_000 })).toBe('v2 ran version 2')
      await sleep(300)
      const waiting = await old.status()
      expect(waiting.status).toBe('QUEUED')
      // never claimed, never failed: its message was not delivered at all
      expect((await store.messages.get(old.messageId))!.attempts).toBe(0)
      await onlyV2.stop()

      await track(workflowWorker(store, [v1, v2], FAST)).start()
      expect(await old.result({ timeoutMs: 10_000 })).toBe('v1 ran version 1')
      const runs = await admin(store).runs({ workflow: name })
      expect(runs.map((r) => [r.version, r.status]).sort()).toEqual([
        [1, 'SUCCESS'],
        [2, 'SUCCESS'],
      ])
      await track.stopAll()
    })

    it('a replay whose step sequence diverges from the stored one ends ERROR with NonDeterminismError naming the expected and actual step', async () => {
      const store = fx.store
      let deploy = 1
      const wf = defineWorkflow({
        name: uniqueName('diverging'),
        async run(ctx) {
          // the code changes between the two deliveries (a deploy without a version bump)
          await ctx.step(deploy === 1 ? 'charge_card' : 'reserve_stock', () => 'done')
          await ctx.sleep('nap', 100)
          return 'finished'
        },
      })
      await track(workflowWorker(store, [wf], FAST)).start()
      const h = await wf.start(store, {})
      await waitForRun(store, h.id, 'SLEEPING')
      deploy = 2
      const e = await rejection(h.result({ timeoutMs: 10_000 }))
      expectError(e, WorkflowFailedError, 'EXECUTION_FAILED', 'reserve_stock', 'charge_card')
      const stored = (e as WorkflowFailedError).error as { name: string; code: string }
      expect(stored.name).toBe('NonDeterminismError')
      expect(stored.code).toBe('NON_DETERMINISM')
      // the divergent step never ran or was stored
      expect((await store.steps.list(h.id)).map((s) => s.stepKey)).toEqual(['charge_card', 'nap'])
      const err = new NonDeterminismError(1, 'a', 'b')
      expect([err.expected, err.actual]).toEqual(['a', 'b'])
      await track.stopAll()
    })

    it('ctx.patched(id): a run that went past the point without the patch replays false, a new run records it and gets true', async () => {
      const store = fx.store
      let deploy = 1
      const extra: number[] = []
      const wf = defineWorkflow({
        name: uniqueName('patched'),
        async run(ctx, input: { n: number }) {
          await ctx.step('first', () => 1)
          if (deploy === 2 && (await ctx.patched('send-sms')))
            await ctx.step('send_sms', () => extra.push(input.n))
          await ctx.sleep('nap', 100)
          return ctx.step('last', () => input.n)
        },
      })
      await track(workflowWorker(store, [wf], FAST)).start()
      const old = await wf.start(store, { n: 1 })
      await waitForRun(store, old.id, 'SLEEPING')
      deploy = 2
      const fresh = await wf.start(store, { n: 2 })
      expect(await old.result({ timeoutMs: 10_000 })).toBe(1)
      expect(await fresh.result({ timeoutMs: 10_000 })).toBe(2)
      expect(extra).toEqual([2])
      expect((await store.steps.list(old.id)).map((s) => s.stepKey)).toEqual([
        'first',
        'nap',
        'last',
      ])
      expect((await store.steps.list(fresh.id)).map((s) => s.stepKey)).toEqual([
        'first',
        'patch:send-sms',
        'send_sms',
        'nap',
        'last',
      ])
      await track.stopAll()
    })
  })
}
