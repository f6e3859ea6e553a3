import type { Store } from '@pgqrs/core'
import {
  defineWorkflow,
  NonRetryableError,
  TransientStepError,
  WorkflowFailedError,
  workflowWorker,
} from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { expectError, rejection, uniqueName, useStore } from '../util.js'
import { FAST, getRun, runnerTracker, stepSummary } from './helpers.js'
import {
  createNotesTable,
  type KyselyLike,
  type KyselyPlace,
  kyselyPlace,
  notesOf,
  scoped,
} from './kysely-helpers.js'

/**
 * Transactional steps (SPEC 5.3): `ctx.step(name, (tx) => …, { transactional: true })` writes the
 * user's rows and the step's completion in one transaction; a throw after writing rolls the
 * rows back and leaves the step not SUCCESS.
 */
export function transactionalStepTests(harness: StoreHarness): void {
  // Needs the harness's Kysely place for the steps' own table: registered only when declared.
  if (!harness.kysely) return
  describe('transactional steps', () => {
    const fx = useStore(harness)
    const track = runnerTracker()
    const table = `wf_notes_${Math.random().toString(36).slice(2, 8)}`
    let ready = false

    let place: KyselyPlace

    async function setUp(): Promise<Store> {
      const store = fx.store
      if (!ready) {
        place = kyselyPlace(harness, store)
        await createNotesTable(place, table)
        ready = true
      }
      return store
    }

    it('the rows written in the step commit with its completion', async () => {
      const store = await setUp()
      const wf = defineWorkflow({
        name: uniqueName('pay'),
        async run(ctx) {
          const paid = await ctx.step(
            'pay',
            async (tx: KyselyLike) => {
              await scoped(tx, place.schema)
                .insertInto(table)
                .values({ run_id: ctx.runId, note: 'paid' })
                .execute()
              return 'paid'
            },
            { transactional: true },
          )
          return ctx.step('after', () => `${paid}!`)
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      expect(await h.result({ timeoutMs: 10_000 })).toBe('paid!')
      expect(await notesOf(place, table, h.id)).toEqual(['paid'])
      expect(await stepSummary(store, h.id)).toEqual([
        ['pay', 'SUCCESS', 'paid'],
        ['after', 'SUCCESS', 'paid!'],
      ])
      await track.stopAll()
    })

    it('a step fn that throws after writing: the write is rolled back and the step is not SUCCESS', async () => {
      const store = await setUp()
      const wf = defineWorkflow({
        name: uniqueName('pay-fails'),
        async run(ctx) {
          return ctx.step(
            'pay',
            async (tx: KyselyLike) => {
              await scoped(tx, place.schema)
                .insertInto(table)
                .values({ run_id: ctx.runId, note: 'doomed' })
                .execute()
              throw new NonRetryableError('declined after writing')
            },
            { transactional: true },
          )
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      expectError(
        await rejection(h.result({ timeoutMs: 10_000 })),
        WorkflowFailedError,
        'EXECUTION_FAILED',
        'declined after writing',
      )
      expect(await notesOf(place, table, h.id)).toEqual([])
      const [step] = await store.steps.list(h.id)
      expect(step?.status).toBe('ERROR')
      expect(step?.output, 'no output stored').toBeUndefined()
      expect((await getRun(store, h.id)).status).toBe('ERROR')
      await track.stopAll()
    })

    it('a transient failure after writing rolls back; the retry writes once: exactly one row', async () => {
      const store = await setUp()
      let calls = 0
      const wf = defineWorkflow({
        name: uniqueName('pay-retry'),
        async run(ctx) {
          return ctx.step(
            'pay',
            async (tx: KyselyLike) => {
              calls++
              await scoped(tx, place.schema)
                .insertInto(table)
                .values({ run_id: ctx.runId, note: `attempt ${calls}` })
                .execute()
              if (calls === 1) throw new TransientStepError('DB', 'flaky', { retryAfterMs: 50 })
              return calls
            },
            { transactional: true },
          )
        },
      })
      const h = await wf.start(store, {})
      await track(workflowWorker(store, [wf], FAST)).start()
      expect(await h.result({ timeoutMs: 10_000 })).toBe(2)
      expect(await notesOf(place, table, h.id)).toEqual(['attempt 2'])
      const [step] = await store.steps.list(h.id)
      expect([step?.status, step?.retryCount]).toEqual(['SUCCESS', 1])
      await track.stopAll()
    })
  })
}
