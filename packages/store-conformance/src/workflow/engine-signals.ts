import { BackoffStrategy } from '@pgqrs/core'
import {
  defineWorkflow,
  SuspensionSwallowedError,
  TransientStepError,
  WorkflowFailedError,
  workflowWorker,
} from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { expectError, rejection, uniqueName, useStore } from '../util.js'
import { FAST, getRun, runnerTracker } from './helpers.js'

/**
 * What a body does with the engine's signals and with values it cannot store: a body that catches
 * the suspension thrown by `ctx.step`/`ctx.sleep` and goes on ends in ERROR with
 * `SuspensionSwallowedError` naming the step (never SUCCESS with a step left unfinished); an output
 * that is no JSON ends the run in ERROR at once, after one execution, saying what it was.
 */
export function engineSignalTests(harness: StoreHarness): void {
  describe('engine signals and unstorable values', () => {
    const fx = useStore(harness)
    const track = runnerTracker()

    it('a body that wraps a retrying step in try/catch ends ERROR with SuspensionSwallowedError naming the step', async () => {
      const store = fx.store
      let calls = 0
      let after = 0
      const wf = defineWorkflow({
        name: uniqueName('swallow'),
        retry: { maxAttempts: 3, backoff: BackoffStrategy.fixed(50) },
        async run(ctx) {
          try {
            await ctx.step('charge', () => {
              calls++
              throw new TransientStepError('T', 'try again')
            })
          } catch {
            // swallowed: the engine's suspension never leaves the body
          }
          // past a swallowed suspension every step throws it again: this one never runs
          await ctx.step('after', () => ++after).catch(() => {})
          return 'done'
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      const e = expectError(
        await rejection(h.result({ timeoutMs: 10_000 })),
        WorkflowFailedError,
        'EXECUTION_FAILED',
        'charge',
      )
      expect(e.error).toMatchObject({
        name: 'SuspensionSwallowedError',
        code: 'SUSPENSION_SWALLOWED',
      })
      const run = await getRun(store, h.id)
      expect(run.status).toBe('ERROR')
      expect(run.output ?? null).toBeNull()
      expect(calls).toBe(1)
      expect(after).toBe(0)
      expect(SuspensionSwallowedError.is(new SuspensionSwallowedError('x', 'retry'))).toBe(true)
      await track.stopAll()
    })

    it('a body that swallows a sleep ends ERROR too, naming the sleep', async () => {
      const store = fx.store
      const wf = defineWorkflow({
        name: uniqueName('swallow-sleep'),
        async run(ctx) {
          await ctx.sleep('nap', 60_000).catch(() => {})
          return 'woke too early'
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      expectError(
        await rejection(h.result({ timeoutMs: 10_000 })),
        WorkflowFailedError,
        'EXECUTION_FAILED',
        'nap',
      )
      expect((await getRun(store, h.id)).error).toMatchObject({ code: 'SUSPENSION_SWALLOWED' })
      await track.stopAll()
    })

    it('a body that rethrows what it caught keeps the step retry', async () => {
      const store = fx.store
      let calls = 0
      const wf = defineWorkflow({
        name: uniqueName('rethrow'),
        retry: { maxAttempts: 3, backoff: BackoffStrategy.fixed(50) },
        async run(ctx) {
          try {
            return await ctx.step('flaky', () => {
              if (++calls === 1) throw new TransientStepError('T', 'once')
              return 'ok'
            })
          } catch (e) {
            throw e
          }
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      expect(await h.result({ timeoutMs: 10_000 })).toBe('ok')
      expect(calls).toBe(2)
      await track.stopAll()
    })

    it('ctx.sleep past the largest delay ends the run ERROR at once with a ValidationError naming ms', async () => {
      const store = fx.store
      let runs = 0
      const wf = defineWorkflow({
        name: uniqueName('sleep-forever'),
        async run(ctx) {
          runs++
          await ctx.sleep('z', 2 ** 53 - 1)
          return 'never'
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      await rejection(h.result({ timeoutMs: 10_000 }))
      expect(runs).toBe(1)
      expect((await getRun(store, h.id)).error).toMatchObject({
        name: 'ValidationError',
        code: 'VALIDATION',
      })
      expect(String(((await getRun(store, h.id)).error as { message: string }).message)).toMatch(
        /ms/,
      )
      expect(await store.steps.list(h.id)).toEqual([])
      await track.stopAll()
    })

    it('a body returning a Date runs once and ends ERROR saying the output is a Date, not a retried delivery', async () => {
      const store = fx.store
      let runs = 0
      const wf = defineWorkflow({
        name: uniqueName('returns-date'),
        async run() {
          runs++
          return new Date()
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      const e = expectError(
        await rejection(h.result({ timeoutMs: 10_000 })),
        WorkflowFailedError,
        'EXECUTION_FAILED',
        'Date',
      )
      expect(e.message).toMatch(/output could not be stored/)
      expect(runs).toBe(1)
      const run = await getRun(store, h.id)
      expect(run.status).toBe('ERROR')
      expect(run.error).toMatchObject({ name: 'ValidationError', code: 'VALIDATION' })
      await track.stopAll()
    })

    it('a thrown error whose message holds NUL or a lone surrogate is stored, cleaned, and the run ends ERROR at once', async () => {
      const store = fx.store
      let runs = 0
      const wf = defineWorkflow({
        name: uniqueName('dirty-error'),
        async run() {
          runs++
          throw new Error(`bad\u0000 byte and \uD800 half a pair ${'x'.repeat(20_000)}`)
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      await rejection(h.result({ timeoutMs: 10_000 }))
      expect(runs).toBe(1)
      const error = (await getRun(store, h.id)).error as { message: string; name: string }
      expect(error.name).toBe('Error')
      expect(error.message.startsWith('bad byte and \uFFFD half a pair')).toBe(true)
      expect(error.message).not.toContain('\u0000')
      expect(error.message.length).toBeLessThanOrEqual(4_000)
      expect(error.message).toMatch(/truncated by pgqrs\]$/)
      await track.stopAll()
    })
  })
}
