import { LeaseLostError, type QueueMessage, type Store } from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from './harness.js'
import { planned } from './plan.js'
import {
  dequeueOne,
  expectError,
  expectTimeNear,
  rejection,
  uniqueName,
  useStore,
  waitFor,
} from './util.js'

/** A started run whose message is leased and whose status is RUNNING. */
interface LeasedRun {
  readonly runId: number
  readonly workflow: string
  readonly message: QueueMessage
  readonly lease: string | null
}

async function leasedRun(store: Store, leaseMs = 30_000): Promise<LeasedRun> {
  const workflow = uniqueName('steps')
  await store.workflows.ensure(workflow)
  const { run } = await store.runs.start(workflow, { for: 'steps' })
  const message = await dequeueOne(store, workflow, leaseMs)
  await store.runs.transition(run.id, { to: 'RUNNING', lease: message.lease })
  return { runId: run.id, workflow, message, lease: message.lease }
}

/** Lets the run message's lease run out and dequeues it again: the new holder's run. */
async function takeOverRun(store: Store, r: LeasedRun): Promise<LeasedRun> {
  const message = await waitFor(
    async () => (await store.messages.dequeue(r.workflow, { batchSize: 1, leaseMs: 30_000 }))[0],
    { what: 'redelivery of the run message' },
  )
  expect(message.id).toBe(r.message.id)
  return { ...r, message, lease: message.lease }
}

/**
 * Registers the step tests: memoised acquire, complete, fail and retry, fencing by the run
 * message's lease, listing in start order and occurrence keys such as `fetch#2`.
 */
export function stepTests(harness: StoreHarness): void {
  describe('steps', () => {
    const fx = useStore(harness)

    it('acquire creates a RUNNING step', async () => {
      const r = await leasedRun(fx.store)
      const {
        step,
        created,
        runStatus: runStatusOf,
      } = await fx.store.steps.acquire(r.runId, 'list_files', r.lease)
      expect(created).toBe(true)
      expect(step).toMatchObject({
        runId: r.runId,
        stepKey: 'list_files',
        status: 'RUNNING',
        retryCount: 0,
      })
      expect(step!.id).toBeGreaterThan(0)
      expect(runStatusOf).toBe('RUNNING')
      expect((await fx.store.steps.get(r.runId, 'list_files'))?.id).toBe(step!.id)
      expect(await fx.store.steps.get(r.runId, 'other')).toBeNull()
    })

    it('complete stores the output; acquire then returns SUCCESS with it, unchanged', async () => {
      const r = await leasedRun(fx.store)
      const { step } = await fx.store.steps.acquire(r.runId, 'compute', r.lease)
      const output = { files: ['/tmp/a', '/tmp/b'], n: 2 }
      expect(await fx.store.steps.complete(r.runId, 'compute', output, r.lease)).toBe(true)
      const done = await fx.store.steps.get(r.runId, 'compute')
      expect(done).toMatchObject({ status: 'SUCCESS', output })
      expect(done?.completedAt).toBeInstanceOf(Date)
      const again = await fx.store.steps.acquire(r.runId, 'compute', r.lease)
      expect(again.created).toBe(false)
      expect(again.step).toMatchObject({ id: step!.id, status: 'SUCCESS', output })
      expect(again.step!.completedAt?.getTime()).toBe(done?.completedAt?.getTime())
    })

    it('acquire of a RUNNING step (interrupted by a crash) returns it again, not created', async () => {
      const r = await leasedRun(fx.store)
      const first = await fx.store.steps.acquire(r.runId, 'crashy', r.lease)
      const second = await fx.store.steps.acquire(r.runId, 'crashy', r.lease)
      expect(second.created).toBe(false)
      expect(second.step).toMatchObject({ id: first.step!.id, status: 'RUNNING' })
      expect(await fx.store.steps.list(r.runId)).toHaveLength(1)
    })

    it('fail records ERROR with retryCount 1 and retryAt; acquire keeps it ERROR', async () => {
      const r = await leasedRun(fx.store)
      await fx.store.steps.acquire(r.runId, 'flaky', r.lease)
      const retryAt = new Date(Date.now() + 60_000)
      const error = { name: 'TransientStepError', message: 'try later' }
      expect(await fx.store.steps.fail(r.runId, 'flaky', error, retryAt, r.lease)).toBe(true)
      const failed = await fx.store.steps.get(r.runId, 'flaky')
      expect(failed).toMatchObject({ status: 'ERROR', retryCount: 1, error })
      expectTimeNear(failed?.retryAt, retryAt.getTime(), 1)
      const again = await fx.store.steps.acquire(r.runId, 'flaky', r.lease)
      expect(again.created).toBe(false)
      expect(again.step).toMatchObject({ status: 'ERROR', retryCount: 1, error })
    })

    it('retry moves a due ERROR step back to RUNNING, clearing the error and keeping retryCount', async () => {
      const r = await leasedRun(fx.store)
      await fx.store.steps.acquire(r.runId, 'flaky', r.lease)
      const due = new Date(Date.now() - 1_000)
      expect(await fx.store.steps.fail(r.runId, 'flaky', { message: 'e1' }, due, r.lease)).toBe(
        true,
      )
      expect(await fx.store.steps.retry(r.runId, 'flaky', r.lease)).toBe(true)
      const retried = await fx.store.steps.get(r.runId, 'flaky')
      expect(retried).toMatchObject({ status: 'RUNNING', retryCount: 1 })
      expect(retried?.error ?? null).toBeNull()
      expect(await fx.store.steps.fail(r.runId, 'flaky', { message: 'e2' }, due, r.lease)).toBe(
        true,
      )
      expect((await fx.store.steps.get(r.runId, 'flaky'))?.retryCount).toBe(2)
    })

    it('retry refuses a step whose retryAt is not due or null', async () => {
      const r = await leasedRun(fx.store)
      await fx.store.steps.acquire(r.runId, 'later', r.lease)
      await fx.store.steps.fail(r.runId, 'later', 'e', new Date(Date.now() + 60_000), r.lease)
      expect(await fx.store.steps.retry(r.runId, 'later', r.lease)).toBe(false)
      expect((await fx.store.steps.get(r.runId, 'later'))?.status).toBe('ERROR')
      await fx.store.steps.acquire(r.runId, 'never', r.lease)
      expect(await fx.store.steps.fail(r.runId, 'never', 'fatal', null, r.lease)).toBe(true)
      expect((await fx.store.steps.get(r.runId, 'never'))?.retryAt).toBeNull()
      expect(await fx.store.steps.retry(r.runId, 'never', r.lease)).toBe(false)
      expect((await fx.store.steps.get(r.runId, 'never'))?.status).toBe('ERROR')
    })

    it('complete with a stale lease throws LeaseLostError and the step stays RUNNING', async () => {
      const stale = await leasedRun(fx.store, 200)
      await fx.store.steps.acquire(stale.runId, 'slow', stale.lease)
      const current = await takeOverRun(fx.store, stale)
      const e = expectError(
        await rejection(fx.store.steps.complete(stale.runId, 'slow', 'late', stale.lease)),
        LeaseLostError,
        'LEASE_LOST',
      )
      expect(e.messageId).toBe(stale.message.id)
      const step = await fx.store.steps.get(stale.runId, 'slow')
      expect(step?.status).toBe('RUNNING')
      expect(step?.output ?? null).toBeNull()
      expect(await fx.store.steps.complete(current.runId, 'slow', 'fresh', current.lease)).toBe(
        true,
      )
      expect((await fx.store.steps.get(stale.runId, 'slow'))?.output).toBe('fresh')
    })

    it('acquire and fail with a stale lease throw LeaseLostError and write nothing', async () => {
      const stale = await leasedRun(fx.store, 200)
      await fx.store.steps.acquire(stale.runId, 'held', stale.lease)
      await takeOverRun(fx.store, stale)
      expectError(
        await rejection(fx.store.steps.acquire(stale.runId, 'new-step', stale.lease)),
        LeaseLostError,
        'LEASE_LOST',
      )
      expect(await fx.store.steps.get(stale.runId, 'new-step')).toBeNull()
      expectError(
        await rejection(fx.store.steps.fail(stale.runId, 'held', 'x', null, stale.lease)),
        LeaseLostError,
        'LEASE_LOST',
      )
      expect((await fx.store.steps.get(stale.runId, 'held'))?.status).toBe('RUNNING')
    })

    it('complete of a step that is not RUNNING returns false and changes nothing', async () => {
      const r = await leasedRun(fx.store)
      await fx.store.steps.acquire(r.runId, 'once', r.lease)
      expect(await fx.store.steps.complete(r.runId, 'once', 1, r.lease)).toBe(true)
      expect(await fx.store.steps.complete(r.runId, 'once', 2, r.lease)).toBe(false)
      expect((await fx.store.steps.get(r.runId, 'once'))?.output).toBe(1)
      expect(await fx.store.steps.complete(r.runId, 'never-acquired', 3, r.lease)).toBe(false)
      expect(await fx.store.steps.get(r.runId, 'never-acquired')).toBeNull()
    })

    it('list returns the steps of a run in the order they were started', async () => {
      const r = await leasedRun(fx.store)
      for (const key of ['b', 'a', 'c']) await fx.store.steps.acquire(r.runId, key, r.lease)
      await fx.store.steps.complete(r.runId, 'a', 'A', r.lease)
      expect((await fx.store.steps.list(r.runId)).map((s) => s.stepKey)).toEqual(['b', 'a', 'c'])
      expect(await fx.store.steps.list(2_000_000_000)).toEqual([])
    })

    it('a run being cancelled gets no new step: step null, runStatus CANCELLING, nothing written', async () => {
      const r = await leasedRun(fx.store)
      await fx.store.runs.transition(r.runId, { to: 'CANCELLING', lease: null })
      const got = await fx.store.steps.acquire(r.runId, 'never', r.lease)
      expect(got).toEqual({ step: null, created: false, runStatus: 'CANCELLING' })
      expect(await fx.store.steps.list(r.runId)).toEqual([])
    })

    it('occurrence keys like fetch#2 are separate steps, and keys are per run', async () => {
      const r = await leasedRun(fx.store)
      const other = await leasedRun(fx.store)
      const a = await fx.store.steps.acquire(r.runId, 'fetch', r.lease)
      const b = await fx.store.steps.acquire(r.runId, 'fetch#2', r.lease)
      const c = await fx.store.steps.acquire(other.runId, 'fetch', other.lease)
      expect(new Set([a.step!.id, b.step!.id, c.step!.id]).size).toBe(3)
      expect(b.created).toBe(true)
      expect(c.created).toBe(true)
      await fx.store.steps.complete(r.runId, 'fetch#2', { page: 2 }, r.lease)
      expect((await fx.store.steps.get(r.runId, 'fetch#2'))?.output).toEqual({ page: 2 })
      expect((await fx.store.steps.get(r.runId, 'fetch'))?.status).toBe('RUNNING')
      expect((await fx.store.steps.get(other.runId, 'fetch'))?.status).toBe('RUNNING')
    })

    // The shortcut's own contract: registered only where the harness declares it.
    if (planned(harness, 'shortcut: steps.record')) {
      describe('steps.record (a shortcut the store declares)', () => {
        const record = (...args: Parameters<NonNullable<Store['steps']['record']>>) =>
          fx.store.steps.record!(...args)

        it('record inserts a step as SUCCESS in one call, with its duration, and reports the run status', async () => {
          const r = await leasedRun(fx.store)
          const output = { rows: [1, 2, 3], note: "it's \u00e9" }
          const got = await record(r.runId, 'load', output, r.lease, 1_500)
          expect(got).toEqual({ written: true, runStatus: 'RUNNING' })
          const step = await fx.store.steps.get(r.runId, 'load')
          expect(step).toMatchObject({ status: 'SUCCESS', output, retryCount: 0 })
          expect(step?.error ?? null).toBeNull()
          const ran = step!.completedAt!.getTime() - step!.startedAt!.getTime()
          expect(ran).toBeGreaterThanOrEqual(1_400)
          expect(ran).toBeLessThan(5_000)
          const again = await fx.store.steps.acquire(r.runId, 'load', r.lease)
          expect(again).toMatchObject({ created: false, step: { status: 'SUCCESS', output } })
        })

        it('record of a key that exists writes nothing and returns written false', async () => {
          const r = await leasedRun(fx.store)
          await fx.store.steps.acquire(r.runId, 'busy', r.lease)
          expect(await record(r.runId, 'busy', 'second', r.lease)).toEqual({
            written: false,
            runStatus: 'RUNNING',
          })
          const busy = await fx.store.steps.get(r.runId, 'busy')
          expect(busy?.status).toBe('RUNNING')
          expect(busy?.output ?? null).toBeNull()
          await record(r.runId, 'done', 1, r.lease)
          expect((await record(r.runId, 'done', 2, r.lease)).written).toBe(false)
          expect((await fx.store.steps.get(r.runId, 'done'))?.output).toBe(1)
        })

        it('record with a stale lease throws LeaseLostError and writes nothing; a cancel is reported', async () => {
          const stale = await leasedRun(fx.store, 200)
          const current = await takeOverRun(fx.store, stale)
          expectError(
            await rejection(record(stale.runId, 'late', 'x', stale.lease)),
            LeaseLostError,
            'LEASE_LOST',
          )
          expect(await fx.store.steps.get(stale.runId, 'late')).toBeNull()
          await fx.store.runs.transition(current.runId, { to: 'CANCELLING', lease: null })
          // a running step finishes and is stored; the caller learns of the cancel from the same call
          expect(await record(current.runId, 'last', 7, current.lease)).toEqual({
            written: true,
            runStatus: 'CANCELLING',
          })
          await expect(record(current.runId, 'bad', 1, current.lease, -1)).rejects.toMatchObject({
            code: 'VALIDATION',
          })
        })
      })
    }
  })
}
