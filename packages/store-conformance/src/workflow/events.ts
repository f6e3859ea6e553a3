import { NotFoundError, ValidationError } from '@pgqrs/core'
import { admin } from '@pgqrs/queue'
import { defineWorkflow, sendEvent, workflowWorker } from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { planned } from '../plan.js'
import { expectError, rejection, sleep, uniqueName, useStore, waitFor } from '../util.js'
import { FAST, runnerTracker, waitForRun, waitForSuspended } from './helpers.js'

/**
 * Events into runs and values out of them (issue 15, items 1 and 2): `ctx.waitForEvent` suspends
 * the run without holding a worker slot, `sendEvent` / `handle.send` wake it, an event sent
 * before the wait is kept, each event is taken by exactly one wait, idempotency keys, timeouts
 * returning `undefined`, and `ctx.setEvent` / `handle.getEvent`.
 */
export function eventTests(harness: StoreHarness): void {
  describe('events and published values', () => {
    const fx = useStore(harness)
    const track = runnerTracker()

    it('a run waiting for approve holds no worker slot (concurrency 1), continues with the sent payload; a second send with the same idempotency key is not delivered again', async () => {
      const store = fx.store
      const wf = defineWorkflow({
        name: uniqueName('approval'),
        async run(ctx, input: { wait: boolean }) {
          if (!input.wait) return ctx.step('quick', () => 'quick')
          const first = await ctx.waitForEvent<{ by: string }>('approve')
          // a duplicate of the first send must not arrive here
          const second = await ctx.waitForEvent('approve', { timeoutMs: 300 })
          return { first, second }
        },
      })
      const starts: number[] = []
      const runner = track(workflowWorker(store, [wf], { ...FAST, concurrency: 1 }))
      runner.workers.get(wf.name)!.on('message:start', () => starts.push(Date.now()))
      await runner.start()
      const waiting = await wf.start(store, { wait: true })
      const asleep = await waitForSuspended(store, waiting.id, 'SLEEPING')
      expect(asleep.wakeAt!.getTime()).toBeGreaterThan(Date.now() + 3_600_000)

      // the only slot is free: another run completes while the first one waits
      const other = await wf.start(store, { wait: false })
      expect(await other.result({ timeoutMs: 10_000 })).toBe('quick')
      expect((await waiting.status()).status).toBe('SLEEPING')

      const sent = await waiting.send('approve', { by: 'ada' }, { idempotencyKey: 'approval-1' })
      expect(sent.created).toBe(true)
      const again = await sendEvent(
        store,
        waiting.id,
        'approve',
        { by: 'bob' },
        {
          idempotencyKey: 'approval-1',
        },
      )
      expect(again.created).toBe(false)
      expect(again.event.id).toBe(sent.event.id)
      expect(again.event.payload).toEqual({ by: 'ada' })

      expect(await waiting.result({ timeoutMs: 10_000 })).toEqual({
        first: { by: 'ada' },
        second: undefined,
      })
      const events = await store.events.list(waiting.id)
      expect(events).toHaveLength(1)
      expect(events[0]!.consumedBy).toBe('wait:approve')
      expect(events[0]!.consumedAt).toBeInstanceOf(Date)
      const steps = (await admin(store).steps(waiting.id)).map((s) => [s.stepKey, s.status])
      expect(steps).toEqual([
        ['wait:approve', 'SUCCESS'],
        ['wait:approve#2', 'SUCCESS'],
      ])
      await track.stopAll()
    })

    it('events sent before the run waits are kept: each wait takes one, oldest first', async () => {
      const store = fx.store
      const wf = defineWorkflow({
        name: uniqueName('early-events'),
        async run(ctx) {
          await ctx.step('before', () => 1)
          const a = await ctx.waitForEvent('item')
          const b = await ctx.waitForEvent('item')
          return [a, b]
        },
      })
      const h = await wf.start(store, {})
      await sendEvent(store, h.id, 'item', 'one')
      await h.send('item', 'two')
      await h.send('other', 'ignored')
      expect((await store.events.list(h.id)).map((e) => e.consumedAt)).toEqual([null, null, null])
      await track(workflowWorker(store, [wf], FAST)).start()
      expect(await h.result({ timeoutMs: 10_000 })).toEqual(['one', 'two'])
      const events = await store.events.list(h.id)
      expect(events.map((e) => [e.name, e.consumedBy])).toEqual([
        ['item', 'wait:item'],
        ['item', 'wait:item#2'],
        ['other', null],
      ])
      await track.stopAll()
    })

    it('a wait with timeoutMs returns undefined after at least the timeout, and the run goes on', async () => {
      const store = fx.store
      const wf = defineWorkflow({
        name: uniqueName('timeout-wait'),
        async run(ctx) {
          const t0 = await ctx.step('t0', () => Date.now())
          const got = await ctx.waitForEvent('never', { timeoutMs: 600 })
          const t1 = await ctx.step('t1', () => Date.now())
          return { got: got === undefined ? 'timed out' : got, waited: t1 - t0 }
        },
      })
      await track(workflowWorker(store, [wf], FAST)).start()
      const h = await wf.start(store, {})
      const out = await h.result({ timeoutMs: 10_000 })
      expect(out.got).toBe('timed out')
      expect(out.waited).toBeGreaterThanOrEqual(600)
      const wait = await store.steps.get(h.id, 'wait:never')
      expect(wait?.output).toEqual({ received: false })
      // an event sent after the timeout is kept, not delivered to the finished wait
      await h.send('never', 'late')
      expect((await store.events.list(h.id))[0]!.consumedAt).toBeNull()
      await track.stopAll()
    })

    it('a run waiting for a different event is not woken by a send; cancel() ends a waiting run', async () => {
      const store = fx.store
      let deliveries = 0
      const wf = defineWorkflow({
        name: uniqueName('picky'),
        async run(ctx) {
          deliveries++
          return ctx.waitForEvent('wanted')
        },
      })
      await track(workflowWorker(store, [wf], FAST)).start()
      const h = await wf.start(store, {})
      await waitForSuspended(store, h.id, 'SLEEPING')
      const sent = await h.send('unwanted', 1)
      expect(sent.woke).toBe(false)
      await sleep(300)
      expect(deliveries).toBe(1)
      await h.cancel()
      await waitForRun(store, h.id, 'CANCELLED')
      await track.stopAll()
    })

    it('ctx.setEvent publishes values (latest wins) that handle.getEvent reads while the run waits and after it ends', async () => {
      const store = fx.store
      const wf = defineWorkflow({
        name: uniqueName('publisher'),
        async run(ctx) {
          await ctx.setEvent('progress', { pct: 10 })
          await ctx.setEvent('url', 'https://example.invalid/approve/1')
          await ctx.waitForEvent('go')
          await ctx.setEvent('progress', { pct: 100 })
          return 'done'
        },
      })
      const h = await wf.start(store, {})
      // nothing published yet: a read with timeoutMs 0 answers at once
      expect(await h.getEvent('progress', { timeoutMs: 0 })).toBeUndefined()
      const reading = h.getEvent('url', { timeoutMs: 10_000 })
      await track(workflowWorker(store, [wf], FAST)).start()
      expect(await reading).toBe('https://example.invalid/approve/1')
      await waitForSuspended(store, h.id, 'SLEEPING')
      expect(await h.getEvent('progress')).toEqual({ pct: 10 })
      await h.send('go', null)
      expect(await h.result({ timeoutMs: 10_000 })).toBe('done')
      expect(await h.getEvent('progress')).toEqual({ pct: 100 })
      // the run ended without setting it: undefined at once, not after the timeout
      const t0 = Date.now()
      expect(await h.getEvent('never-set', { timeoutMs: 20_000 })).toBeUndefined()
      expect(Date.now() - t0).toBeLessThan(10_000)
      await track.stopAll()
    })

    it('bad input is a typed error and stores nothing', async () => {
      const store = fx.store
      const wf = defineWorkflow({ name: uniqueName('bad-events'), run: () => 1 })
      const h = await wf.start(store, {})
      expectError(await rejection(sendEvent(store, 2 ** 40, 'x', 1)), NotFoundError, 'NOT_FOUND')
      expectError(await rejection(h.send('', 1)), ValidationError, 'VALIDATION')
      expectError(await rejection(h.send('x'.repeat(201), 1)), ValidationError, 'VALIDATION')
      expectError(await rejection(h.send('x', undefined)), ValidationError, 'VALIDATION')
      expectError(
        await rejection(h.send('x', { f: () => 1 } as unknown)),
        ValidationError,
        'VALIDATION',
      )
      expectError(
        await rejection(h.send('x', 1, { idempotencyKey: '' })),
        ValidationError,
        'VALIDATION',
      )
      expect(await store.events.list(h.id)).toEqual([])
    })

    it('many runs wait without deliveries while they wait; one send each finishes them all', async () => {
      const store = fx.store
      const n = 40
      const wf = defineWorkflow({
        name: uniqueName('many-waiters'),
        async run(ctx, input: { i: number }) {
          const got = await ctx.waitForEvent<number>('go')
          return (got ?? -1) + input.i
        },
      })
      let deliveries = 0
      const runner = track(workflowWorker(store, [wf], { ...FAST, concurrency: 8 }))
      runner.workers.get(wf.name)!.on('message:start', () => deliveries++)
      await runner.start()
      const handles = []
      for (let i = 0; i < n; i++) handles.push(await wf.start(store, { i }))
      for (const h of handles) await waitForSuspended(store, h.id, 'SLEEPING')
      const settled = deliveries
      expect(settled).toBe(n)
      // while they wait, their messages are invisible until the (absent) timeout: no delivery
      await sleep(400)
      expect(deliveries).toBe(settled)
      for (const h of handles) {
        const m = await store.messages.get(h.messageId)
        expect(m!.visibleAt.getTime()).toBeGreaterThan(Date.now() + 3_600_000)
      }
      for (const h of handles) await h.send('go', 1000)
      const results = await Promise.all(handles.map((h) => h.result({ timeoutMs: 20_000 })))
      expect(results).toEqual(handles.map((_, i) => 1000 + i))
      expect(deliveries).toBe(2 * n)
      await track.stopAll()
    })

    if (planned(harness, 'workflow: event wake-ups by NOTIFY')) {
      it('a waiting run is woken by NOTIFY: with a 30 s poll interval it continues soon after the send', async () => {
        const store = fx.store
        const wf = defineWorkflow({
          name: uniqueName('notify-wake'),
          async run(ctx) {
            const got = await ctx.waitForEvent('ping')
            return ctx.step('after', () => ({ got, at: Date.now() }))
          },
        })
        await track(workflowWorker(store, [wf], { ...FAST, pollIntervalMs: 30_000 })).start()
        const h = await wf.start(store, {})
        await waitFor(
          async () => {
            const r = await store.runs.get(h.id)
            const m = r && (await store.messages.get(r.messageId))
            return r?.status === 'SLEEPING' && m?.lease === null
          },
          { timeoutMs: 10_000, intervalMs: 20, what: 'the run asleep' },
        )
        await sleep(100)
        const sentAt = Date.now()
        await h.send('ping', 'pong')
        const out = await h.result({ timeoutMs: 10_000 })
        expect(out.got).toBe('pong')
        // generous bound (the target is 100 ms at idle, measured in bench): far below the poll interval
        expect(out.at - sentAt).toBeLessThan(5_000)
        await track.stopAll()
      })
    }
  })
}
