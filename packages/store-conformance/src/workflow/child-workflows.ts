import { ConflictError, ValidationError } from '@pgqrs/core'
import { admin } from '@pgqrs/queue'
import {
  ChildWorkflowFailedError,
  defineWorkflow,
  NonRetryableError,
  Run,
  TransientStepError,
  type WorkflowDefinition,
  workflowWorker,
} from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { planned } from '../plan.js'
import { expectError, rejection, sleep, uniqueName, useStore, waitFor } from '../util.js'
import {
  FAST,
  getRun,
  leaseNext,
  runnerTracker,
  stepSummary,
  waitForRun,
  waitForSuspended,
} from './helpers.js'

/**
 * Child workflows (issue 15, item 3): `ctx.startChild` starts a run exactly once per call site,
 * also on replay; `child.result()` suspends the parent without holding a worker slot and the
 * child's end wakes it; fan-out with `Promise.all`; a failed or cancelled child surfaces as
 * `ChildWorkflowFailedError`; cancelling a parent cancels its unfinished children (recursively);
 * `admin.runs({ parentId })` and the run record show the tree; the low-level `Run` API has the
 * same two calls. The crash test (SIGKILL while a parent awaits 10 children) is in crash.ts.
 */
export function childWorkflowTests(harness: StoreHarness): void {
  describe('child workflows', () => {
    const fx = useStore(harness)
    const track = runnerTracker()

    it('fan-out: 10 children started with Promise.all, their results awaited with Promise.all; each exists once, listed by admin.runs({ parentId })', async () => {
      const store = fx.store
      const square = defineWorkflow({
        name: uniqueName('square'),
        run: (ctx, input: { n: number }) => ctx.step('square', () => input.n * input.n),
      })
      const fanOut = defineWorkflow({
        name: uniqueName('fan-out'),
        async run(ctx, input: { n: number }) {
          const children = await Promise.all(
            Array.from({ length: input.n }, (_, i) => ctx.startChild(square, { n: i + 1 })),
          )
          const results = await Promise.all(children.map((c) => c.result()))
          return ctx.step('sum', () => results.reduce((a, b) => a + b, 0))
        },
      })
      await track(workflowWorker(store, [fanOut, square], FAST)).start()
      const h = await fanOut.start(store, { n: 10 })
      expect(await h.result({ timeoutMs: 20_000 })).toBe(385)

      const children = await admin(store).runs({ parentId: h.id })
      expect(children).toHaveLength(10)
      expect(new Set(children.map((c) => c.id)).size).toBe(10)
      for (const c of children) {
        expect(c.parentId).toBe(h.id)
        expect(c.workflow).toBe(square.name)
        expect(c.status).toBe('SUCCESS')
      }
      // each call site (`child:<name>`, `#2`… in call order) started the child with its input
      const occurrence = (key: string | null) => Number(/#(\d+)$/.exec(key ?? '')?.[1] ?? 1)
      expect(
        children
          .map((c) => [occurrence(c.parentStep), (c.input as { n: number }).n])
          .sort((a, b) => a[0]! - b[0]!),
      ).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1, i + 1]))
      const sites = new Set(children.map((c) => c.parentStep))
      expect(sites).toEqual(
        new Set([
          `child:${square.name}`,
          ...Array.from({ length: 9 }, (_, i) => `child:${square.name}#${i + 2}`),
        ]),
      )
      // the parent's steps: one per call site holding its child, one await per child, the sum
      const steps = await stepSummary(store, h.id)
      const byKey = new Map(steps.map(([k, s, o]) => [k, [s, o]]))
      for (const c of children) {
        expect(byKey.get(c.parentStep!)).toEqual([
          'SUCCESS',
          { runId: c.id, messageId: c.messageId, workflow: square.name },
        ])
        expect(byKey.get(`await:${c.id}`)).toEqual([
          'SUCCESS',
          { workflow: square.name, status: 'SUCCESS', output: (c.input as { n: number }).n ** 2 },
        ])
      }
      expect(steps).toHaveLength(21)
      expect(steps.at(-1)).toEqual(['sum', 'SUCCESS', 385])
      // a root run has no parent
      const root = await getRun(store, h.id)
      expect([root.parentId, root.parentStep]).toEqual([null, null])
      expect(await admin(store).runs({ parentId: children[0]!.id })).toEqual([])
      await track.stopAll()
    })

    it('a parent awaiting a child holds no worker slot: with concurrency 1 the child (same queue) still runs', async () => {
      const store = fx.store
      const nested: WorkflowDefinition<{ depth: number }, number> = defineWorkflow({
        name: uniqueName('nested'),
        async run(ctx, input: { depth: number }) {
          if (input.depth === 0) return ctx.step('leaf', () => 0)
          const child = await ctx.startChild(nested, { depth: input.depth - 1 })
          return 1 + (await child.result())
        },
      })
      await track(workflowWorker(store, [nested], { ...FAST, concurrency: 1 })).start()
      const h = await nested.start(store, { depth: 3 })
      expect(await h.result({ timeoutMs: 20_000 })).toBe(3)
      let id = h.id
      for (let depth = 2; depth >= 0; depth--) {
        const [kid] = await admin(store).runs({ parentId: id })
        expect(kid?.input).toEqual({ depth })
        expect(kid?.status).toBe('SUCCESS')
        id = kid!.id
      }
      await track.stopAll()
    })

    it('while the child runs the parent is SLEEPING with its message released; the child ending wakes it', async () => {
      const store = fx.store
      const gated = defineWorkflow({
        name: uniqueName('gated'),
        async run(ctx) {
          const go = await ctx.waitForEvent<string>('go')
          return `child got ${go}`
        },
      })
      const parent = defineWorkflow({
        name: uniqueName('gated-parent'),
        async run(ctx) {
          const child = await ctx.startChild(gated, {})
          await ctx.setEvent('child', child.id)
          return child.result()
        },
      })
      let parentDeliveries = 0
      const runner = track(workflowWorker(store, [parent, gated], FAST))
      runner.workers.get(parent.name)!.on('message:start', () => parentDeliveries++)
      await runner.start()
      const h = await parent.start(store, {})
      const childId = (await h.getEvent<number>('child', { timeoutMs: 10_000 }))!
      const asleep = await waitForSuspended(store, h.id, 'SLEEPING')
      expect(asleep.wakeAt!.getTime()).toBeGreaterThan(Date.now() + 3_600_000)
      await waitForSuspended(store, childId, 'SLEEPING')
      const before = parentDeliveries
      // nothing wakes the parent while its child waits
      await sleep(300)
      expect(parentDeliveries).toBe(before)
      await store.events.send(childId, 'go', 'yes')
      expect(await h.result({ timeoutMs: 10_000 })).toBe('child got yes')
      // one delivery after the wake (more only if a slow machine let a lease run out)
      expect(parentDeliveries).toBeGreaterThanOrEqual(before + 1)
      await track.stopAll()
    })

    it('a replay of startChild returns the same child: a step retry after it starts no second child', async () => {
      const store = fx.store
      const seen: number[] = []
      const leaf = defineWorkflow({ name: uniqueName('leaf'), run: () => 'leaf' })
      let attempts = 0
      const parent = defineWorkflow({
        name: uniqueName('replaying'),
        async run(ctx) {
          const child = await ctx.startChild(leaf, {})
          seen.push(child.id)
          await ctx.step('flaky', () => {
            attempts++
            if (attempts === 1) throw new TransientStepError('FLAKY', 'once', { retryAfterMs: 50 })
            return 'ok'
          })
          return child.result()
        },
      })
      await track(workflowWorker(store, [parent, leaf], FAST)).start()
      const h = await parent.start(store, {})
      expect(await h.result({ timeoutMs: 10_000 })).toBe('leaf')
      expect(seen.length).toBeGreaterThanOrEqual(2)
      expect(new Set(seen).size).toBe(1)
      const children = await admin(store).runs({ parentId: h.id })
      expect(children.map((c) => c.id)).toEqual([seen[0]])
      await track.stopAll()
    })

    it("a child started with another version goes to that version's queue and runs there", async () => {
      const store = fx.store
      const name = uniqueName('versioned-child')
      const v2 = defineWorkflow({
        name,
        version: 2,
        run: (_ctx, input: { x: number }) => input.x * 2,
      })
      const parent = defineWorkflow({
        name: uniqueName('versioned-parent'),
        async run(ctx) {
          const child = await ctx.startChild(v2, { x: 21 })
          return child.result()
        },
      })
      await track(workflowWorker(store, [parent, v2], FAST)).start()
      const h = await parent.start(store, {})
      expect(await h.result({ timeoutMs: 10_000 })).toBe(42)
      const [child] = await admin(store).runs({ parentId: h.id })
      expect(child?.version).toBe(2)
      const m = await store.messages.get(child!.messageId)
      expect(m?.queue).toBe(`${name}:v2`)
      await track.stopAll()
    })

    it('a failing child surfaces in the parent as ChildWorkflowFailedError carrying its error; uncaught, it ends the parent ERROR', async () => {
      const store = fx.store
      const charge = defineWorkflow({
        name: uniqueName('charge'),
        run: () => {
          throw new NonRetryableError('card declined')
        },
      })
      const catching = defineWorkflow({
        name: uniqueName('catching'),
        async run(ctx) {
          const child = await ctx.startChild(charge, {})
          try {
            await child.result()
            return 'charged'
          } catch (e) {
            if (!ChildWorkflowFailedError.is(e)) throw e
            return {
              name: e.name,
              code: e.code,
              child: e.childRunId === child.id,
              workflow: e.workflow,
              status: e.status,
              error: (e.error as { message: string }).message,
            }
          }
        },
      })
      const uncaught = defineWorkflow({
        name: uniqueName('uncaught'),
        async run(ctx) {
          const child = await ctx.startChild(charge, {})
          return child.result()
        },
      })
      await track(workflowWorker(store, [catching, uncaught, charge], FAST)).start()
      const h1 = await catching.start(store, {})
      expect(await h1.result({ timeoutMs: 10_000 })).toEqual({
        name: 'ChildWorkflowFailedError',
        code: 'CHILD_FAILED',
        child: true,
        workflow: charge.name,
        status: 'ERROR',
        error: 'card declined',
      })
      const h2 = await uncaught.start(store, {})
      const ended = await waitForRun(store, h2.id, ['ERROR', 'SUCCESS'])
      expect(ended.status).toBe('ERROR')
      expect(ended.error).toMatchObject({
        name: 'ChildWorkflowFailedError',
        code: 'CHILD_FAILED',
      })
      expect((ended.error as { message: string }).message).toContain('card declined')
      await track.stopAll()
    })

    it('cancelling a parent cancels its unfinished children and theirs; a finished child stays SUCCESS', async () => {
      const store = fx.store
      const quick = defineWorkflow({ name: uniqueName('quick'), run: () => 'done' })
      const waiter = defineWorkflow({
        name: uniqueName('waiter'),
        run: (ctx) => ctx.waitForEvent('never'),
      })
      const middle = defineWorkflow({
        name: uniqueName('middle'),
        async run(ctx) {
          const grandchild = await ctx.startChild(waiter, {})
          return grandchild.result()
        },
      })
      const top = defineWorkflow({
        name: uniqueName('top'),
        async run(ctx) {
          const done = await ctx.startChild(quick, {})
          await done.result()
          const child = await ctx.startChild(middle, {})
          const other = await ctx.startChild(waiter, {})
          return Promise.all([child.result(), other.result()])
        },
      })
      await track(workflowWorker(store, [top, middle, waiter, quick], FAST)).start()
      const h = await top.start(store, {})
      // the whole tree is asleep: top awaits middle and waiter, middle awaits its waiter
      const tree = await waitFor(
        async () => {
          const kids = await admin(store).runs({ parentId: h.id })
          const mid = kids.find((k) => k.workflow === middle.name)
          const grand = mid && (await admin(store).runs({ parentId: mid.id }))[0]
          return kids.length === 3 && grand ? { kids, grand } : null
        },
        { timeoutMs: 10_000, intervalMs: 20, what: 'the tree of runs' },
      )
      for (const r of [...tree.kids.filter((k) => k.workflow !== quick.name), tree.grand])
        await waitForSuspended(store, r.id, 'SLEEPING')
      await waitForSuspended(store, h.id, 'SLEEPING')

      await h.cancel()
      await waitForRun(store, h.id, 'CANCELLED')
      for (const r of [...tree.kids, tree.grand]) {
        const end = await waitForRun(store, r.id, ['CANCELLED', 'SUCCESS', 'ERROR'])
        expect([r.workflow, end.status]).toEqual([
          r.workflow,
          r.workflow === quick.name ? 'SUCCESS' : 'CANCELLED',
        ])
      }
      await track.stopAll()
    })

    it('the low-level Run API: startChild on a replay returns the same child, awaitChild returns its output once it ended', async () => {
      const store = fx.store
      const leaf = defineWorkflow({
        name: uniqueName('low-leaf'),
        run: (_c, i: { v: string }) => i.v,
      })
      const parent = defineWorkflow({ name: uniqueName('low-parent'), run: () => null })
      await parent.ensure(store)
      const h = await parent.start(store, {})
      const msg = await leaseNext(store, parent.queue, 60_000)
      const first = await Run.open(store, msg)
      const c1 = await first.startChild(leaf, { v: 'hello' })
      // a second delivery of the same message replays the call site: same child, no new run
      const second = await Run.open(store, msg)
      const c2 = await second.startChild(leaf, { v: 'hello' })
      expect(c2.id).toBe(c1.id)
      expect(c2.messageId).toBe(c1.messageId)
      expect((await admin(store).runs({ parentId: h.id })).map((r) => r.id)).toEqual([c1.id])
      expect((await getRun(store, c1.id)).parentStep).toBe(`child:${leaf.name}`)
      // while the child has not run, awaiting it suspends the caller (the engine's signal)
      const pending = await rejection(second.awaitChild(c1.id))
      expect((pending as Error).name).toBe('Suspend')
      // not a child of this run: a typed error naming what is allowed
      const stranger = await leaf.start(store, { v: 'x' })
      expectError(
        await rejection(second.awaitChild(stranger.id)),
        ValidationError,
        'VALIDATION',
        'child',
      )
      await track(workflowWorker(store, [leaf], FAST)).start()
      await waitForRun(store, c1.id, 'SUCCESS')
      const third = await Run.open(store, msg)
      expect(await third.startChild(leaf, { v: 'hello' })).toMatchObject({ id: c1.id })
      expect(await third.awaitChild(c1.id)).toBe('hello')
      expect(await (await Run.open(store, msg)).awaitChild(c1.id)).toBe('hello')
      await track.stopAll()
    })

    it('bad calls are typed errors: a non-definition, a child input its schema refuses, an idempotency key held by a run that is no child', async () => {
      const store = fx.store
      const strict = defineWorkflow({
        name: uniqueName('strict'),
        input: (v: unknown) => {
          if (typeof v !== 'number') throw new Error('a number, please')
          return v
        },
        run: (_c, n: number) => n,
      })
      const parent = defineWorkflow({ name: uniqueName('bad-parent'), run: () => null })
      await parent.ensure(store)
      await parent.start(store, {})
      const msg = await leaseNext(store, parent.queue, 60_000)
      const r = await Run.open(store, msg)
      expectError(
        await rejection(r.startChild({ name: 'x' } as never, {})),
        ValidationError,
        'VALIDATION',
        'defineWorkflow',
      )
      expectError(
        await rejection(r.startChild(strict, 'seven' as unknown as number)),
        ValidationError,
        'VALIDATION',
        'a number, please',
      )
      await strict.start(store, 1, { idempotencyKey: 'taken' })
      expectError(
        await rejection(r.startChild(strict, 2, { idempotencyKey: 'taken' })),
        ConflictError,
        'CONFLICT',
        'not a child',
      )
      expect(await admin(store).runs({ parentId: r.id })).toEqual([])
    })

    if (planned(harness, 'workflow: event wake-ups by NOTIFY')) {
      it('a parent is woken by NOTIFY when its child ends: with a 30 s poll interval it continues soon after', async () => {
        const store = fx.store
        const gated = defineWorkflow({
          name: uniqueName('notify-child'),
          run: async (ctx) => {
            await ctx.waitForEvent('go')
            return ctx.step('end', () => Date.now())
          },
        })
        const parent = defineWorkflow({
          name: uniqueName('notify-parent'),
          async run(ctx) {
            const child = await ctx.startChild(gated, {})
            await ctx.setEvent('child', child.id)
            const endedAt = await child.result()
            return ctx.step('after', () => ({ endedAt, at: Date.now() }))
          },
        })
        await track(
          workflowWorker(store, [parent, gated], { ...FAST, pollIntervalMs: 30_000 }),
        ).start()
        const h = await parent.start(store, {})
        const childId = (await h.getEvent<number>('child', { timeoutMs: 10_000 }))!
        await waitForSuspended(store, childId, 'SLEEPING')
        await waitForSuspended(store, h.id, 'SLEEPING')
        await store.events.send(childId, 'go', null)
        const out = await h.result({ timeoutMs: 10_000 })
        // generous bound: far below the 30 s poll interval
        expect(out.at - out.endedAt).toBeLessThan(5_000)
        await track.stopAll()
      })
    }
  })
}
