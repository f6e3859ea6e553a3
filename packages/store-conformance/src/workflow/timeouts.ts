import { BackoffStrategy, ValidationError } from '@pgqrs/core'
import { defineWorkflow, WorkflowFailedError, workflowWorker } from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { expectError, rejection, uniqueName, useStore } from '../util.js'
import { FAST, runnerTracker, waitForRun } from './helpers.js'

/** The error stored on a run or step, as far as these tests read it. */
type Stored = { name?: string; code?: string; message?: string } | undefined

/**
 * Timeouts (issue 15, item 4): `ctx.step(name, fn, { timeoutMs })` aborts the step's signal and
 * records a `TimeoutError` that the retry policy handles; `defineWorkflow({ timeoutMs })` and
 * `start(…, { deadline })` end an overdue run ERROR with a `TimeoutError`, also while it waits.
 */
export function timeoutTests(harness: StoreHarness): void {
  describe('timeouts', () => {
    const fx = useStore(harness)
    const track = runnerTracker()

    it('a step over its timeoutMs has its signal aborted and fails with TimeoutError; the retry policy runs it again', async () => {
      const store = fx.store
      const seen: string[] = []
      const wf = defineWorkflow({
        name: uniqueName('step-timeout'),
        retry: { maxAttempts: 3, backoff: BackoffStrategy.fixed(20) },
        async run(ctx) {
          return ctx.step(
            'slow',
            async (_tx, { signal }) => {
              if (seen.length > 0) {
                seen.push('fast')
                return 'second try'
              }
              await new Promise<void>((resolve) =>
                signal.addEventListener('abort', () => resolve(), { once: true }),
              )
              seen.push(`aborted: ${(signal.reason as Error).name}`)
              return 'too late'
            },
            { timeoutMs: 200 },
          )
        },
      })
      await track(workflowWorker(store, [wf], FAST)).start()
      const h = await wf.start(store, {})
      expect(await h.result({ timeoutMs: 10_000 })).toBe('second try')
      expect(seen).toEqual(['aborted: TimeoutError', 'fast'])
      const step = await store.steps.get(h.id, 'slow')
      expect(step?.retryCount).toBe(1)
      expect(step?.output).toBe('second try')
      await track.stopAll()
    })

    it('a step that times out with no retry left ends the run ERROR with the TimeoutError', async () => {
      const store = fx.store
      const wf = defineWorkflow({
        name: uniqueName('step-timeout-final'),
        retry: { maxAttempts: 1 },
        async run(ctx) {
          return ctx.step('hang', () => new Promise(() => {}), { timeoutMs: 150 })
        },
      })
      await track(workflowWorker(store, [wf], FAST)).start()
      const h = await wf.start(store, {})
      const e = await rejection(h.result({ timeoutMs: 10_000 }))
      expectError(
        e,
        WorkflowFailedError,
        'EXECUTION_FAILED',
        'step hang did not finish within 150 ms',
      )
      expect(((e as WorkflowFailedError).error as Stored)?.name).toBe('TimeoutError')
      await track.stopAll()
    })

    it('defineWorkflow({ timeoutMs }) ends a run that waits for an event past its deadline: ERROR with TimeoutError', async () => {
      const store = fx.store
      const wf = defineWorkflow({
        name: uniqueName('wf-timeout'),
        timeoutMs: 600,
        async run(ctx) {
          await ctx.step('first', () => 1)
          return ctx.waitForEvent('never')
        },
      })
      await track(workflowWorker(store, [wf], FAST)).start()
      const t0 = Date.now()
      const h = await wf.start(store, {})
      const started = await h.status()
      expect(started.deadline).toBeInstanceOf(Date)
      expect(started.deadline!.getTime()).toBeGreaterThanOrEqual(t0 + 600)
      const done = await waitForRun(store, h.id, 'ERROR')
      expect(Date.now() - t0).toBeGreaterThanOrEqual(600)
      expect((done.error as Stored)?.name).toBe('TimeoutError')
      expect((done.error as Stored)?.message).toContain('deadline')
      await track.stopAll()
    })

    it('start(…, { deadline }) bounds a sleeping run and a running step alike', async () => {
      const store = fx.store
      const sleeper = defineWorkflow({
        name: uniqueName('deadline-sleep'),
        async run(ctx) {
          await ctx.sleep('long', 60_000)
          return 'woke'
        },
      })
      let aborted = false
      const worker = defineWorkflow({
        name: uniqueName('deadline-step'),
        async run(ctx) {
          return ctx.step('forever', async (_tx, { signal }) => {
            await new Promise<void>((resolve) =>
              signal.addEventListener('abort', () => resolve(), { once: true }),
            )
            aborted = true
            return 'aborted'
          })
        },
      })
      await track(workflowWorker(store, [sleeper, worker], FAST)).start()
      const deadline = new Date(Date.now() + 500)
      const a = await sleeper.start(store, {}, { deadline })
      const b = await worker.start(store, {}, { deadline })
      const [ra, rb] = await Promise.all([
        waitForRun(store, a.id, 'ERROR'),
        waitForRun(store, b.id, 'ERROR'),
      ])
      expect(Date.now()).toBeGreaterThanOrEqual(deadline.getTime())
      for (const r of [ra, rb]) expect((r.error as Stored)?.name).toBe('TimeoutError')
      expect(aborted).toBe(true)
      await track.stopAll()
    })

    it('bad timeouts are typed errors', async () => {
      expect(() =>
        defineWorkflow({ name: uniqueName('bad'), timeoutMs: -1, run: () => 1 }),
      ).toThrow(ValidationError)
      const store = fx.store
      const wf = defineWorkflow({ name: uniqueName('bad-deadline'), run: () => 1 })
      expectError(
        await rejection(wf.start(store, {}, { deadline: new Date(Number.NaN) })),
        ValidationError,
        'VALIDATION',
      )
    })
  })
}
