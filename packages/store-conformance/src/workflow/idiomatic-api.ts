import { TimeoutError, ValidationError } from '@pgqrs/core'
import { admin } from '@pgqrs/queue'
import {
  CancelledError,
  defineWorkflow,
  WorkflowFailedError,
  workflowWorker,
} from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { expectError, rejection, sleep, totalMessages, uniqueName, useStore } from '../util.js'
import {
  FAST,
  getMessage,
  runnerTracker,
  stepSummary,
  waitForArchived,
  waitForRun,
} from './helpers.js'

/**
 * The idiomatic API of SPEC 5.2: `defineWorkflow`, `start` with idempotency keys, `RunHandle`
 * (`status`, `result`, `cancel`), `workflowWorker` with concurrency, and input schemas.
 */
export function idiomaticApiTests(harness: StoreHarness): void {
  describe('idiomatic API (SPEC 5.2)', () => {
    const fx = useStore(harness)
    const track = runnerTracker()

    it('start() with the same idempotency key returns the same run and enqueues one message; workflowWorker runs it; status() and result() report it', async () => {
      const store = fx.store
      const calls: string[] = []
      const wf = defineWorkflow({
        name: uniqueName('archive_files'),
        async run(ctx, input: { path: string }) {
          const files = await ctx.step('list_files', () => {
            calls.push('list_files')
            return [input.path]
          })
          return ctx.step('create_archive', () => {
            calls.push('create_archive')
            return `${files[0]}.zip`
          })
        },
      })
      const h1 = await wf.start(store, { path: '/tmp/report.csv' }, { idempotencyKey: 'k-1' })
      const h2 = await wf.start(store, { path: '/tmp/report.csv' }, { idempotencyKey: 'k-1' })
      expect(h2.id).toBe(h1.id)
      expect(h2.messageId).toBe(h1.messageId)
      expect(await totalMessages(store, wf.name)).toBe(1)
      expect(await admin(store).runs({ workflow: wf.name })).toHaveLength(1)
      const queued = await h1.status()
      expect(queued.status).toBe('QUEUED')
      expect(queued.idempotencyKey).toBe('k-1')
      expect(queued.input).toEqual({ path: '/tmp/report.csv' })

      await track(workflowWorker(store, [wf], { ...FAST, concurrency: 4 })).start()
      expect(await h1.result({ timeoutMs: 10_000 })).toBe('/tmp/report.csv.zip')
      const done = await h1.status()
      expect(done.status).toBe('SUCCESS')
      expect(done.output).toBe('/tmp/report.csv.zip')
      expect(calls).toEqual(['list_files', 'create_archive'])
      expect(await stepSummary(store, h1.id)).toEqual([
        ['list_files', 'SUCCESS', ['/tmp/report.csv']],
        ['create_archive', 'SUCCESS', '/tmp/report.csv.zip'],
      ])
      expect((await waitForArchived(store, h1.messageId)).archivedAt).toBeInstanceOf(Date)

      // A third start with the key, after the run finished, still returns that run.
      const h3 = await wf.start(store, { path: '/tmp/report.csv' }, { idempotencyKey: 'k-1' })
      expect(h3.id).toBe(h1.id)
      expect(await h3.result({ timeoutMs: 1_000 })).toBe('/tmp/report.csv.zip')
      // A different key is a different run.
      const other = await wf.start(store, { path: '/tmp/other.csv' }, { idempotencyKey: 'k-2' })
      expect(other.id).not.toBe(h1.id)
      expect(await other.result({ timeoutMs: 10_000 })).toBe('/tmp/other.csv.zip')
      await track.stopAll()
    })

    it('result() throws WorkflowFailedError with the stored error when the run ends in ERROR', async () => {
      const store = fx.store
      const wf = defineWorkflow({
        name: uniqueName('fails'),
        async run(ctx) {
          await ctx.step('ok', () => 1)
          throw new Error('the body gave up')
        },
      })
      await track(workflowWorker(store, [wf], FAST)).start()
      const h = await wf.start(store, { n: 1 })
      const e = await rejection(h.result({ timeoutMs: 10_000 }))
      const failed = expectError(e, WorkflowFailedError, 'EXECUTION_FAILED', 'the body gave up')
      expect(failed.runId).toBe(h.id)
      expect(failed.error).toMatchObject({ message: 'the body gave up', transient: false })
      const r = await h.status()
      expect(r.status).toBe('ERROR')
      expect(r.error).toMatchObject({ name: 'Error', message: 'the body gave up' })
      expect((await waitForArchived(store, h.messageId)).archivedAt).toBeInstanceOf(Date)
      await track.stopAll()
    })

    it('result({ timeoutMs }) throws TimeoutError when the run does not finish in time', async () => {
      const store = fx.store
      const wf = defineWorkflow({ name: uniqueName('never-runs'), run: async () => 1 })
      const h = await wf.start(store, {})
      const t0 = Date.now()
      const e = await rejection(h.result({ timeoutMs: 300 }))
      expectError(e, TimeoutError, 'TIMEOUT')
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290)
      expect(Date.now() - t0).toBeLessThan(5_000)
      expect((await h.status()).status).toBe('QUEUED')
    })

    it('cancel() of a queued run: CANCELLING at once, CANCELLED at delivery without running the body; result() throws CancelledError', async () => {
      const store = fx.store
      let calls = 0
      const wf = defineWorkflow({
        name: uniqueName('cancel-queued'),
        async run(ctx) {
          calls++
          return ctx.step('s', () => 1)
        },
      })
      const h = await wf.start(store, {}, { delayMs: 60_000 })
      const cancelling = await h.cancel()
      expect(cancelling.status).toBe('CANCELLING')
      await track(workflowWorker(store, [wf], FAST)).start()
      // cancel() makes the delayed message visible now, so the worker finalises it soon.
      const e = await rejection(h.result({ timeoutMs: 10_000 }))
      expectError(e, CancelledError, 'CANCELLED')
      expect((await h.status()).status).toBe('CANCELLED')
      expect(calls).toBe(0)
      expect(await store.steps.list(h.id)).toEqual([])
      expect((await waitForArchived(store, h.messageId)).archivedAt).toBeInstanceOf(Date)
      await track.stopAll()
    })

    it('workflowWorker with concurrency 4 runs several runs at once, never more than 4', async () => {
      const store = fx.store
      let inFlight = 0
      let maxInFlight = 0
      const wf = defineWorkflow({
        name: uniqueName('parallel'),
        async run(ctx, input: { n: number }) {
          return ctx.step('work', async () => {
            inFlight++
            maxInFlight = Math.max(maxInFlight, inFlight)
            await sleep(300)
            inFlight--
            return input.n * 2
          })
        },
      })
      const handles = await Promise.all(Array.from({ length: 8 }, (_, n) => wf.start(store, { n })))
      await track(workflowWorker(store, [wf], { ...FAST, concurrency: 4 })).start()
      const outputs = await Promise.all(handles.map((h) => h.result({ timeoutMs: 15_000 })))
      expect(outputs).toEqual([0, 2, 4, 6, 8, 10, 12, 14])
      expect(maxInFlight).toBeGreaterThan(1)
      expect(maxInFlight).toBeLessThanOrEqual(4)
      const runs = await admin(store).runs({ workflow: wf.name })
      expect(runs.map((r) => r.status)).toEqual(Array(8).fill('SUCCESS'))
      await track.stopAll()
    })

    it('5 concurrent start() calls with one idempotency key create one run and one message', async () => {
      const store = fx.store
      const wf = defineWorkflow({ name: uniqueName('idem-race'), run: async () => 'done' })
      await wf.ensure(store)
      const handles = await Promise.all(
        Array.from({ length: 5 }, () => wf.start(store, { n: 1 }, { idempotencyKey: 'same' })),
      )
      expect(new Set(handles.map((h) => h.id)).size).toBe(1)
      expect(new Set(handles.map((h) => h.messageId)).size).toBe(1)
      expect(await admin(store).runs({ workflow: wf.name })).toHaveLength(1)
      expect(await totalMessages(store, wf.name)).toBe(1)
    })

    it('input that is not JSON (a BigInt) throws ValidationError and stores nothing', async () => {
      const store = fx.store
      const wf = defineWorkflow({ name: uniqueName('bad-input'), run: async () => 1 })
      await wf.ensure(store)
      const e = await rejection(wf.start(store, { amount: 10n } as never))
      expectError(e, ValidationError, 'VALIDATION', 'amount')
      expect(await admin(store).runs({ workflow: wf.name })).toEqual([])
      expect(await totalMessages(store, wf.name)).toBe(0)
    })

    it('input that fails the schema throws ValidationError and stores nothing', async () => {
      const store = fx.store
      const wf = defineWorkflow({
        name: uniqueName('schema'),
        input: (x: unknown) => {
          const path = (x as { path?: unknown } | null)?.path
          if (typeof path !== 'string') throw new Error('path must be a string')
          return { path }
        },
        run: async (_ctx, input: { path: string }) => input.path,
      })
      const e = await rejection(wf.start(store, { path: 42 } as never))
      expectError(e, ValidationError, 'VALIDATION', wf.name, 'path must be a string')
      expect(await admin(store).runs({ workflow: wf.name })).toEqual([])
      expect(await totalMessages(store, wf.name)).toBe(0)
      expect(await store.workflows.get(wf.name), 'no workflow row either').toBeNull()
      // The schema's parsed value is what gets stored for a valid input.
      const h = await wf.start(store, { path: '/ok', extra: true } as never)
      expect((await h.status()).input).toEqual({ path: '/ok' })
      const m = await getMessage(store, h.messageId)
      expect(m.payload).toEqual({ input: { path: '/ok' } })
      await track(workflowWorker(store, [wf], FAST)).start()
      await waitForRun(store, h.id, 'SUCCESS')
      expect(await h.result({ timeoutMs: 1_000 })).toBe('/ok')
      await track.stopAll()
    })
  })
}
