import {
  InvalidStateTransitionError,
  LeaseLostError,
  NotFoundError,
  type QueueMessage,
  type RunStatus,
  type Store,
  ValidationError,
  WorkflowNotFoundError,
} from '@pgqrs/core'
import { endRun } from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from './harness.js'
import {
  CLOCK_SLACK_MS,
  dequeueOne,
  expectError,
  expectTimeNear,
  rejection,
  uniqueName,
  useStore,
  waitFor,
} from './util.js'

/** Ensures a fresh workflow named after `prefix` and returns its name. */
async function freshWorkflow(store: Store, prefix: string): Promise<string> {
  const name = uniqueName(prefix)
  await store.workflows.ensure(name)
  return name
}

/** Starts a run and moves it through `path` (unfenced). */
async function runIn(store: Store, path: readonly RunStatus[]): Promise<number> {
  const workflow = await freshWorkflow(store, 'run-path')
  const { run } = await store.runs.start(workflow, { path })
  for (const to of path) await store.runs.transition(run.id, { to, lease: null })
  return run.id
}

/** Starts a run, leases its message and moves the run RUNNING under that lease. */
async function leasedRun(store: Store, prefix: string, leaseMs = 30_000) {
  const workflow = await freshWorkflow(store, prefix)
  const { run } = await store.runs.start(workflow, { prefix })
  const message = await dequeueOne(store, workflow, leaseMs)
  await store.runs.transition(run.id, { to: 'RUNNING', lease: message.lease })
  expect(message.lease).toEqual(expect.any(String))
  return { workflow, runId: run.id, message: message as QueueMessage & { lease: string } }
}

/**
 * Registers the workflow and run tests: workflows map to queues, `start` with idempotency keys,
 * `getOrCreateForMessage` under concurrency, the guarded transitions of `RUN_TRANSITIONS`, lease
 * fencing, listing and lookups.
 */
export function runTests(harness: StoreHarness): void {
  describe('workflows and runs', () => {
    const fx = useStore(harness)

    it('workflows.ensure creates the workflow and a queue of the same name, idempotently', async () => {
      const name = uniqueName('wf')
      const wf = await fx.store.workflows.ensure(name)
      const queue = await fx.store.queues.get(name)
      expect(wf.id).toBeGreaterThan(0)
      expect(wf.name).toBe(name)
      expect(queue).not.toBeNull()
      expect(wf.queueId).toBe(queue!.id)
      const again = await fx.store.workflows.ensure(name)
      expect(again.id).toBe(wf.id)
      expect((await fx.store.workflows.get(name))?.id).toBe(wf.id)
      expect((await fx.store.workflows.list()).filter((w) => w.name === name)).toHaveLength(1)
      expect(await fx.store.workflows.get(uniqueName('no-such-wf'))).toBeNull()
    })

    it('workflows.ensure run 5 times concurrently creates one workflow', async () => {
      const name = uniqueName('wf-concurrent')
      const all = await Promise.all(
        Array.from({ length: 5 }, () => fx.store.workflows.ensure(name)),
      )
      expect(new Set(all.map((w) => w.id)).size).toBe(1)
      expect((await fx.store.queues.list()).filter((q) => q.name === name)).toHaveLength(1)
    })

    it('start creates a QUEUED run and enqueues { input } on the workflow queue', async () => {
      const workflow = await freshWorkflow(fx.store, 'wf-start')
      const wf = await fx.store.workflows.get(workflow)
      const input = { path: '/tmp/report.csv', n: [1, 2] }
      const { run, message, created } = await fx.store.runs.start(workflow, input)
      expect(created).toBe(true)
      expect(run).toMatchObject({
        status: 'QUEUED',
        workflow,
        workflowId: wf!.id,
        messageId: message.id,
      })
      expect(run.input).toEqual(input)
      expect(message.queue).toBe(workflow)
      expect(message.payload).toEqual({ input })
      expect((await fx.store.runs.get(run.id))?.status).toBe('QUEUED')
      expect((await fx.store.runs.getByMessage(message.id))?.id).toBe(run.id)
      const delivered = await dequeueOne(fx.store, workflow)
      expect(delivered.id).toBe(message.id)
      expect(delivered.payload).toEqual({ input })
    })

    it('start with the same idempotency key returns the first run and enqueues nothing', async () => {
      const workflow = await freshWorkflow(fx.store, 'wf-idem')
      const first = await fx.store.runs.start(workflow, { n: 1 }, { idempotencyKey: 'key-1' })
      const second = await fx.store.runs.start(workflow, { n: 2 }, { idempotencyKey: 'key-1' })
      expect(first.created).toBe(true)
      expect(second.created).toBe(false)
      expect(second.run.id).toBe(first.run.id)
      expect(second.message.id).toBe(first.message.id)
      expect(second.run.input).toEqual({ n: 1 })
      expect(second.run.idempotencyKey).toBe('key-1')
      expect(await fx.store.queues.metrics(workflow)).toMatchObject({ pending: 1 })
      const third = await fx.store.runs.start(workflow, { n: 3 }, { idempotencyKey: 'key-2' })
      expect(third.created).toBe(true)
      expect(third.run.id).not.toBe(first.run.id)
    })

    it('idempotency keys are per workflow', async () => {
      const w1 = await freshWorkflow(fx.store, 'wf-idem-a')
      const w2 = await freshWorkflow(fx.store, 'wf-idem-b')
      const a = await fx.store.runs.start(w1, 1, { idempotencyKey: 'shared' })
      const b = await fx.store.runs.start(w2, 1, { idempotencyKey: 'shared' })
      expect(b.created).toBe(true)
      expect(b.run.id).not.toBe(a.run.id)
      expect(b.run.workflow).toBe(w2)
    })

    it('a run started in a transaction that throws leaves neither run nor message', async () => {
      const workflow = await freshWorkflow(fx.store, 'wf-tx')
      let runId = 0
      const boom = new Error('rolled back')
      const e = await rejection(
        fx.store.transaction(async (tx) => {
          runId = (await tx.runs.start(workflow, { n: 1 })).run.id
          throw boom
        }),
      )
      expect(e).toBe(boom)
      expect(runId).toBeGreaterThan(0)
      expect(await fx.store.runs.get(runId)).toBeNull()
      expect(await fx.store.runs.list({ workflow })).toEqual([])
      expect(await fx.store.queues.metrics(workflow)).toMatchObject({ pending: 0 })
    })

    it('starting a run of an unknown workflow throws WorkflowNotFoundError and creates nothing', async () => {
      const name = uniqueName('wf-missing')
      const e = await rejection(fx.store.runs.start(name, { x: 1 }))
      expectError(e, WorkflowNotFoundError, 'WORKFLOW_NOT_FOUND', name)
      expect(NotFoundError.is(e)).toBe(true)
      expect(await fx.store.workflows.get(name)).toBeNull()
      expect(await fx.store.queues.get(name)).toBeNull()
    })

    it('getOrCreateForMessage called 5 times concurrently creates one QUEUED run', async () => {
      const workflow = await freshWorkflow(fx.store, 'wf-for-message')
      const [msg] = await fx.store.messages.enqueue(workflow, [{ payload: { input: { x: 1 } } }])
      const runs = await Promise.all(
        Array.from({ length: 5 }, () => fx.store.runs.getOrCreateForMessage(msg!)),
      )
      expect(new Set(runs.map((r) => r.id)).size).toBe(1)
      expect(runs[0]).toMatchObject({ status: 'QUEUED', messageId: msg!.id, workflow })
      expect(runs[0]!.input).toEqual({ x: 1 })
      expect(await fx.store.runs.list({ workflow })).toHaveLength(1)
    })

    it('getOrCreateForMessage returns the run that start created', async () => {
      const workflow = await freshWorkflow(fx.store, 'wf-for-started')
      const { run, message } = await fx.store.runs.start(workflow, 'in')
      expect((await fx.store.runs.getOrCreateForMessage(message)).id).toBe(run.id)
      expect(await fx.store.runs.list({ workflow })).toHaveLength(1)
    })

    it('QUEUED → RUNNING → SUCCESS stores the output; SUCCESS → RUNNING is refused', async () => {
      const workflow = await freshWorkflow(fx.store, 'wf-success')
      const { run } = await fx.store.runs.start(workflow, 1)
      const before = Date.now()
      const running = await fx.store.runs.transition(run.id, { to: 'RUNNING', lease: null })
      expect(running.status).toBe('RUNNING')
      expectTimeNear(running.startedAt, before, CLOCK_SLACK_MS)
      const done = await fx.store.runs.transition(run.id, {
        to: 'SUCCESS',
        lease: null,
        output: { archive: 'x.zip' },
      })
      expect(done.status).toBe('SUCCESS')
      expect(done.output).toEqual({ archive: 'x.zip' })
      expect(done.completedAt).toBeInstanceOf(Date)
      const e = expectError(
        await rejection(fx.store.runs.transition(run.id, { to: 'RUNNING', lease: null })),
        InvalidStateTransitionError,
        'INVALID_STATE_TRANSITION',
      )
      expect({ from: e.from, to: e.to }).toEqual({ from: 'SUCCESS', to: 'RUNNING' })
      const stored = await fx.store.runs.get(run.id)
      expect(stored?.status).toBe('SUCCESS')
      expect(stored?.output).toEqual({ archive: 'x.zip' })
    })

    it('RUNNING → ERROR stores the error', async () => {
      const id = await runIn(fx.store, ['RUNNING'])
      const error = { name: 'Error', message: 'boom', code: 'E1' }
      const failed = await fx.store.runs.transition(id, { to: 'ERROR', error, lease: null })
      expect(failed.status).toBe('ERROR')
      expect((await fx.store.runs.get(id))?.error).toEqual(error)
    })

    it('RUNNING → SLEEPING keeps wakeAt; SLEEPING → RUNNING is allowed', async () => {
      const id = await runIn(fx.store, ['RUNNING'])
      const wakeAt = new Date(Date.now() + 60_000)
      const sleeping = await fx.store.runs.transition(id, { to: 'SLEEPING', wakeAt, lease: null })
      expect(sleeping.status).toBe('SLEEPING')
      expectTimeNear(sleeping.wakeAt, wakeAt.getTime(), 1)
      expect((await fx.store.runs.transition(id, { to: 'RUNNING', lease: null })).status).toBe(
        'RUNNING',
      )
    })

    for (const from of ['QUEUED', 'RUNNING'] as const) {
      it(`${from} → CANCELLING → CANCELLED is allowed`, async () => {
        const id = await runIn(fx.store, from === 'QUEUED' ? [] : ['RUNNING'])
        expect((await fx.store.runs.transition(id, { to: 'CANCELLING', lease: null })).status).toBe(
          'CANCELLING',
        )
        expect((await fx.store.runs.transition(id, { to: 'CANCELLED', lease: null })).status).toBe(
          'CANCELLED',
        )
        expect((await fx.store.runs.get(id))?.status).toBe('CANCELLED')
      })
    }

    const illegal: readonly (readonly [readonly RunStatus[], RunStatus])[] = [
      [[], 'CANCELLED'],
      [['RUNNING'], 'CANCELLED'],
      [[], 'SUCCESS'],
      [['RUNNING'], 'QUEUED'],
      [['RUNNING', 'ERROR'], 'CANCELLING'],
    ]
    for (const [path, to] of illegal) {
      const from = path.at(-1) ?? 'QUEUED'
      it(`${from} → ${to} throws InvalidStateTransitionError; the status is unchanged`, async () => {
        const id = await runIn(fx.store, path)
        const e = expectError(
          await rejection(fx.store.runs.transition(id, { to, lease: null })),
          InvalidStateTransitionError,
          'INVALID_STATE_TRANSITION',
        )
        expect({ from: e.from, to: e.to }).toEqual({ from, to })
        expect((await fx.store.runs.get(id))?.status).toBe(from)
      })
    }

    it('a transition fenced by the current lease applies; a stale lease throws LeaseLostError', async () => {
      const workflow = await freshWorkflow(fx.store, 'wf-fence')
      const { run } = await fx.store.runs.start(workflow, 1)
      const first = await dequeueOne(fx.store, workflow, 200)
      const running = await fx.store.runs.transition(run.id, { to: 'RUNNING', lease: first.lease })
      expect(running.status).toBe('RUNNING')
      const second = await waitFor(
        async () =>
          (await fx.store.messages.dequeue(workflow, { batchSize: 1, leaseMs: 30_000 }))[0],
        { what: 'redelivery of the run message' },
      )
      expect(second.id).toBe(first.id)
      const e = expectError(
        await rejection(
          fx.store.runs.transition(run.id, { to: 'SUCCESS', lease: first.lease, output: 'stale' }),
        ),
        LeaseLostError,
        'LEASE_LOST',
      )
      expect(e.messageId).toBe(first.id)
      const stored = await fx.store.runs.get(run.id)
      expect(stored?.status).toBe('RUNNING')
      expect(stored?.output ?? null).toBeNull()
      const done = await fx.store.runs.transition(run.id, {
        to: 'SUCCESS',
        lease: second.lease,
        output: 'fresh',
      })
      expect(done).toMatchObject({ status: 'SUCCESS', output: 'fresh' })
    })

    it('end moves a RUNNING run to SUCCESS and its message to the archive together', async () => {
      const { workflow, runId, message } = await leasedRun(fx.store, 'wf-end')
      const done = await endRun(fx.store, runId, {
        to: 'SUCCESS',
        lease: message.lease,
        output: { n: 1 },
      })
      expect(done).toMatchObject({ id: runId, status: 'SUCCESS', output: { n: 1 } })
      expect(done.completedAt).toBeInstanceOf(Date)
      expect((await fx.store.runs.get(runId))?.status).toBe('SUCCESS')
      expect((await fx.store.messages.get(message.id))?.archivedAt).toBeInstanceOf(Date)
      expect((await fx.store.queues.metrics(workflow))?.archived).toBe(1)
      // the message is gone from the queue: ending again finds no lease
      expectError(
        await rejection(endRun(fx.store, runId, { to: 'SUCCESS', lease: message.lease })),
        LeaseLostError,
        'LEASE_LOST',
      )
    })

    it('end to ERROR stores the error and archives the message', async () => {
      const { runId, message } = await leasedRun(fx.store, 'wf-end-error')
      const error = { name: 'Error', message: 'boom' }
      expect(
        (await endRun(fx.store, runId, { to: 'ERROR', lease: message.lease, error })).error,
      ).toEqual(error)
      expect((await fx.store.messages.get(message.id))?.archivedAt).toBeInstanceOf(Date)
    })

    it('end with a stale lease throws LeaseLostError: the run and the new holder are untouched', async () => {
      const { runId, message: first } = await leasedRun(fx.store, 'wf-end-stale', 200)
      const second = await waitFor(
        async () =>
          (await fx.store.messages.dequeue(first.queue, { batchSize: 1, leaseMs: 30_000 }))[0],
        { what: 'redelivery of the run message' },
      )
      expect(second.id).toBe(first.id)
      expect(second.lease).toEqual(expect.any(String))
      const e = expectError(
        await rejection(
          endRun(fx.store, runId, { to: 'SUCCESS', lease: first.lease, output: 'stale' }),
        ),
        LeaseLostError,
        'LEASE_LOST',
      )
      expect(e.messageId).toBe(first.id)
      const unchanged = await fx.store.runs.get(runId)
      expect(unchanged?.status).toBe('RUNNING')
      expect(unchanged?.output ?? null).toBeNull()
      const held = await fx.store.messages.get(first.id)
      expect(held).toMatchObject({ lease: second.lease, archivedAt: null })
      const done = await endRun(fx.store, runId, { to: 'SUCCESS', lease: second.lease as string })
      expect(done.status).toBe('SUCCESS')
    })

    it('end of a CANCELLING run to SUCCESS is refused and keeps the message; CANCELLED ends it', async () => {
      const { runId, message } = await leasedRun(fx.store, 'wf-end-cancel')
      await fx.store.runs.transition(runId, { to: 'CANCELLING', lease: null })
      const e = expectError(
        await rejection(endRun(fx.store, runId, { to: 'SUCCESS', lease: message.lease })),
        InvalidStateTransitionError,
        'INVALID_STATE_TRANSITION',
      )
      expect({ from: e.from, to: e.to }).toEqual({ from: 'CANCELLING', to: 'SUCCESS' })
      expect(await fx.store.messages.get(message.id)).toMatchObject({
        lease: message.lease,
        archivedAt: null,
      })
      const ended = await endRun(fx.store, runId, { to: 'CANCELLED', lease: message.lease })
      expect(ended.status).toBe('CANCELLED')
      expect((await fx.store.messages.get(message.id))?.archivedAt).toBeInstanceOf(Date)
    })

    it('end refuses a status that does not end a run, and a missing lease (ValidationError)', async () => {
      const { runId, message } = await leasedRun(fx.store, 'wf-end-bad')
      const bad: unknown[] = [
        { to: 'RUNNING', lease: message.lease },
        { to: 'SLEEPING', lease: message.lease },
        { to: 'SUCCESS' },
        { to: 'SUCCESS', lease: null },
        { to: 'SUCCESS', lease: '' },
      ]
      for (const ending of bad) {
        expectError(
          await rejection(endRun(fx.store, runId, ending as never)),
          ValidationError,
          'VALIDATION',
        )
      }
      expect((await fx.store.runs.get(runId))?.status).toBe('RUNNING')
      expect((await fx.store.messages.get(message.id))?.archivedAt).toBeNull()
      expectError(
        await rejection(endRun(fx.store, 2_000_000_000, { to: 'SUCCESS', lease: message.lease })),
        NotFoundError,
        'NOT_FOUND',
      )
    })

    it('list filters by workflow, status and limit, newest first', async () => {
      const workflow = await freshWorkflow(fx.store, 'wf-list')
      const ids: number[] = []
      for (let i = 0; i < 3; i++) ids.push((await fx.store.runs.start(workflow, i)).run.id)
      await fx.store.runs.transition(ids[1]!, { to: 'RUNNING', lease: null })
      const newestFirst = [...ids].reverse()
      expect((await fx.store.runs.list({ workflow })).map((r) => r.id)).toEqual(newestFirst)
      expect((await fx.store.runs.list({ workflow, status: 'RUNNING' })).map((r) => r.id)).toEqual([
        ids[1],
      ])
      expect((await fx.store.runs.list({ workflow, status: ['QUEUED'] })).map((r) => r.id)).toEqual(
        [ids[2], ids[0]],
      )
      expect((await fx.store.runs.list({ workflow, limit: 2 })).map((r) => r.id)).toEqual(
        newestFirst.slice(0, 2),
      )
      expect(await fx.store.runs.list({ workflow, since: new Date(Date.now() + 60_000) })).toEqual(
        [],
      )
      expect(
        await fx.store.runs.list({ workflow, since: new Date(Date.now() - 60_000) }),
      ).toHaveLength(3)
      const other = await freshWorkflow(fx.store, 'wf-list-other')
      await fx.store.runs.start(other, 0)
      expect((await fx.store.runs.list({ workflow })).every((r) => r.workflow === workflow)).toBe(
        true,
      )
    })

    it('get and getByMessage of unknown ids return null', async () => {
      expect(await fx.store.runs.get(2_000_000_000)).toBeNull()
      expect(await fx.store.runs.getByMessage(2_000_000_000)).toBeNull()
    })

    it('runs.start stores headers with the run message (read back by messages.headers); bad headers are a ValidationError', async () => {
      const workflow = await freshWorkflow(fx.store, 'wf-headers')
      const headers = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }
      const { message } = await fx.store.runs.start(workflow, 1, { headers })
      const { message: plain } = await fx.store.runs.start(workflow, 2)
      if (fx.store.messages.headers) {
        const got = await fx.store.messages.headers([message.id, plain.id])
        expect(got.get(message.id)).toEqual(headers)
        expect(got.has(plain.id)).toBe(false)
      }
      expectError(
        await rejection(fx.store.runs.start(workflow, 3, { headers: { 'bad key': 1 } as never })),
        ValidationError,
        'VALIDATION',
      )
      expect(await fx.store.runs.list({ workflow })).toHaveLength(2)
    })

    it('events.list returns the oldest events first, at most limit', async () => {
      const workflow = await freshWorkflow(fx.store, 'wf-events-limit')
      const { run } = await fx.store.runs.start(workflow, null)
      for (const n of [1, 2, 3]) await fx.store.events.send(run.id, 'tick', n)
      const all = await fx.store.events.list(run.id)
      expect(all.map((e) => e.payload)).toEqual([1, 2, 3])
      expect((await fx.store.events.list(run.id, { limit: 2 })).map((e) => e.payload)).toEqual([
        1, 2,
      ])
      expectError(
        await rejection(fx.store.events.list(run.id, { limit: 0 })),
        ValidationError,
        'VALIDATION',
      )
    })

    // registered only where the store declares the optional methods (as conformancePlan gates)
    const declared = new Set(harness.shortcuts ?? [])
    if (declared.has('runs.counts'))
      it('runs.counts: runs by workflow and status in one read, statuses without runs left out, at most limit lines', async () => {
        const workflow = await freshWorkflow(fx.store, 'wf-counts')
        const ids: number[] = []
        for (let i = 0; i < 4; i++) ids.push((await fx.store.runs.start(workflow, i)).run.id)
        await fx.store.runs.transition(ids[1]!, { to: 'RUNNING', lease: null })
        await fx.store.runs.transition(ids[2]!, { to: 'RUNNING', lease: null })
        await fx.store.runs.transition(ids[2]!, { to: 'SUCCESS', lease: null })
        const counts = await fx.store.runs.counts!({ limit: 10_000 })
        expect(counts.filter((c) => c.workflow === workflow)).toEqual([
          { workflow, status: 'QUEUED', count: 2 },
          { workflow, status: 'RUNNING', count: 1 },
          { workflow, status: 'SUCCESS', count: 1 },
        ])
        expect(await fx.store.runs.counts!({ limit: 1 })).toHaveLength(1)
        expectError(
          await rejection(fx.store.runs.counts!({ limit: 0 })),
          ValidationError,
          'VALIDATION',
        )
      })
    if (declared.has('events.values'))
      it('events.values: the values a run published, latest per key, by key, at most limit', async () => {
        const workflow = await freshWorkflow(fx.store, 'wf-values')
        const { run } = await fx.store.runs.start(workflow, null)
        expect(await fx.store.events.values!(run.id)).toEqual([])
        await fx.store.events.setValue(run.id, 'progress', 1, null)
        await fx.store.events.setValue(run.id, 'approval', { url: 'https://x.test/a' }, null)
        await fx.store.events.setValue(run.id, 'progress', 2, null)
        const values = await fx.store.events.values!(run.id)
        expect(values.map((v) => [v.key, v.value])).toEqual([
          ['approval', { url: 'https://x.test/a' }],
          ['progress', 2],
        ])
        for (const v of values) expectTimeNear(v.updatedAt, Date.now(), CLOCK_SLACK_MS)
        expect(await fx.store.events.values!(run.id, { limit: 1 })).toHaveLength(1)
        expectError(
          await rejection(fx.store.events.values!(run.id, { limit: 0 })),
          ValidationError,
          'VALIDATION',
        )
      })
  })
}
