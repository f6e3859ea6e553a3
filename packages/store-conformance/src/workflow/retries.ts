import { BackoffStrategy } from '@pgqrs/core'
import {
  defineWorkflow,
  NonRetryableError,
  TransientStepError,
  WorkflowFailedError,
  workflowWorker,
} from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { expectError, expectTimeNear, rejection, uniqueName, useStore, waitFor } from '../util.js'
import {
  FAST,
  getMessage,
  getRun,
  runnerTracker,
  stepSummary,
  waitForArchived,
  waitForStep,
} from './helpers.js'

/**
 * Step failures (SPEC 5.3): a transient error schedules a retry at its `retryAfterMs` with the
 * message invisible until then (no hot redelivery, no queue attempt burnt); exhausted retries and
 * `NonRetryableError` end the run in ERROR with the serialised error.
 */
export function retryTests(harness: StoreHarness): void {
  describe('step retries', () => {
    const fx = useStore(harness)
    const track = runnerTracker()

    it('TransientStepError with retryAfterMs 500: step ERROR (retryCount 1) meanwhile, no redelivery before 500 ms, then SUCCESS', async () => {
      const store = fx.store
      const calls: number[] = []
      const wf = defineWorkflow({
        name: uniqueName('transient'),
        async run(ctx) {
          return ctx.step('flaky', () => {
            calls.push(Date.now())
            if (calls.length === 1) throw new TransientStepError('T', 'x', { retryAfterMs: 500 })
            return 'ok'
          })
        },
      })
      const h = await wf.start(store, {})
      const runner = track(workflowWorker(store, [wf], FAST))
      const deliveries: number[] = []
      runner.workers.get(wf.name)!.on('message:start', () => deliveries.push(Date.now()))
      await runner.start()

      const errored = await waitForStep(store, h.id, 'flaky', (s) => s.status === 'ERROR')
      expect(errored.retryCount).toBe(1)
      expect(errored.retryAt).toBeInstanceOf(Date)
      expectTimeNear(errored.retryAt, calls[0]! + 500, 250)
      expect(errored.error).toMatchObject({
        name: 'TransientStepError',
        code: 'T',
        transient: true,
        retryAfterMs: 500,
      })
      expect((await getRun(store, h.id)).status).toBe('RUNNING')
      // The message waits, released until the retry is due: not leased, attempt not counted.
      const waiting = await waitFor(
        async () => {
          const m = await store.messages.get(h.messageId)
          return m && m.lease === null ? m : null
        },
        { timeoutMs: 450, intervalMs: 10, what: 'the message released during the retry wait' },
      )
      expect(waiting.attempts).toBeLessThanOrEqual(1)
      expectTimeNear(waiting.visibleAt, errored.retryAt!.getTime(), 250)

      expect(await h.result({ timeoutMs: 10_000 })).toBe('ok')
      expect(calls).toHaveLength(2)
      expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(500)
      expect(
        deliveries.filter((t) => t < calls[0]! + 500),
        'deliveries before the retry was due',
      ).toHaveLength(1)
      const step = (await store.steps.list(h.id))[0]!
      expect([step.stepKey, step.status, step.output, step.retryCount]).toEqual([
        'flaky',
        'SUCCESS',
        'ok',
        1,
      ])
      expect(step.retryAt).toBeNull()
      const m = await waitForArchived(store, h.messageId)
      expect(m.attempts, 'a step retry does not count as a queue attempt').toBe(1)
      await track.stopAll()
    })

    it('retries exhausted (maxAttempts 2, always throwing): 2 calls, step ERROR without retryAt, run ERROR with the serialised error', async () => {
      const store = fx.store
      let calls = 0
      const wf = defineWorkflow({
        name: uniqueName('exhausted'),
        retry: { maxAttempts: 2, backoff: BackoffStrategy.fixed(100) },
        async run(ctx) {
          await ctx.step('always', () => {
            calls++
            throw new Error(`boom ${calls}`)
          })
          return 'unreachable'
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      const e = await rejection(h.result({ timeoutMs: 10_000 }))
      expectError(e, WorkflowFailedError, 'EXECUTION_FAILED', 'boom 2')
      expect(calls).toBe(2)
      const run = await getRun(store, h.id)
      expect(run.status).toBe('ERROR')
      expect(run.error).toMatchObject({ name: 'Error', message: 'boom 2', transient: false })
      const [step] = await store.steps.list(h.id)
      expect(step).toMatchObject({
        stepKey: 'always',
        status: 'ERROR',
        retryCount: 2,
        retryAt: null,
      })
      expect(step!.error).toMatchObject({ message: 'boom 2' })
      expect((await waitForArchived(store, h.messageId)).deadAt).toBeNull()
      await track.stopAll()
    })

    it('NonRetryableError ends the run in ERROR at once: 1 call, no retry scheduled', async () => {
      const store = fx.store
      let calls = 0
      let after = 0
      const wf = defineWorkflow({
        name: uniqueName('permanent'),
        async run(ctx) {
          await ctx.step('charge', () => {
            calls++
            throw new NonRetryableError('card declined')
          })
          return ctx.step('after', () => ++after)
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      const e = await rejection(h.result({ timeoutMs: 10_000 }))
      expectError(e, WorkflowFailedError, 'EXECUTION_FAILED', 'card declined')
      expect(calls).toBe(1)
      expect(after).toBe(0)
      const run = await getRun(store, h.id)
      expect(run.error).toMatchObject({
        name: 'NonRetryableError',
        code: 'NON_RETRYABLE',
        message: 'card declined',
        transient: false,
      })
      expect(await store.steps.list(h.id)).toMatchObject([
        { stepKey: 'charge', status: 'ERROR', retryCount: 1, retryAt: null },
      ])
      await waitForArchived(store, h.messageId)
      await track.stopAll()
    })

    it('a per-step retry policy overrides the workflow policy (maxAttempts 1: ERROR after one call)', async () => {
      const store = fx.store
      let strict = 0
      let lenient = 0
      const wf = defineWorkflow({
        name: uniqueName('per-step'),
        retry: { maxAttempts: 5, backoff: BackoffStrategy.fixed(20) },
        async run(ctx) {
          await ctx.step('lenient', () => {
            if (++lenient < 3) throw new Error(`lenient ${lenient}`)
            return lenient
          })
          return ctx.step(
            'strict',
            () => {
              strict++
              throw new Error('strict fails once')
            },
            { retry: { maxAttempts: 1 } },
          )
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      expectError(
        await rejection(h.result({ timeoutMs: 10_000 })),
        WorkflowFailedError,
        'EXECUTION_FAILED',
        'strict fails once',
      )
      expect([lenient, strict]).toEqual([3, 1])
      expect(await store.steps.list(h.id)).toMatchObject([
        { stepKey: 'lenient', status: 'SUCCESS', retryCount: 2 },
        { stepKey: 'strict', status: 'ERROR', retryCount: 1, retryAt: null },
      ])
      await track.stopAll()
    })

    describe('with a store whose messages have maxAttempts 2', () => {
      const small = useStore(harness, { config: { maxAttempts: 2 } })

      it('4 step executions (3 transient failures) succeed: step retries never count against the message attempts', async () => {
        const store = small.store
        let calls = 0
        const wf = defineWorkflow({
          name: uniqueName('budget'),
          retry: { maxAttempts: 5 },
          async run(ctx) {
            return ctx.step('flaky', () => {
              calls++
              if (calls <= 3)
                throw new TransientStepError('BUSY', `try ${calls}`, { retryAfterMs: 50 })
              return calls
            })
          },
        })
        const h = await wf.start(store, {})
        expect((await getMessage(store, h.messageId)).maxAttempts).toBe(2)
        await track(workflowWorker(store, [wf], FAST)).start()
        expect(await h.result({ timeoutMs: 10_000 })).toBe(4)
        expect(await stepSummary(store, h.id)).toEqual([['flaky', 'SUCCESS', 4]])
        expect((await store.steps.list(h.id))[0]!.retryCount).toBe(3)
        const m = await waitForArchived(store, h.messageId)
        expect(m.deadAt).toBeNull()
        expect(m.attempts).toBe(1)
        await track.stopAll()
      })
    })
  })
}
