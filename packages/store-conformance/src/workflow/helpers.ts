import type { QueueMessage, RunRecord, RunStatus, StepRecord, Store } from '@pgqrs/core'
import type { WorkerOptions } from '@pgqrs/queue'
import type { WorkflowWorker } from '@pgqrs/workflow'
import { expect } from 'vitest'
import { leakTracker, waitFor } from '../util.js'

/**
 * Worker options of the workflow suite: short leases (renewed at half-time while a body runs),
 * 50 ms polls and a fast heartbeat, so that redeliveries and wake-ups happen within the test.
 */
export const FAST: WorkerOptions = Object.freeze({
  pollIntervalMs: 50,
  leaseMs: 500,
  heartbeatIntervalMs: 1_000,
  graceMs: 0,
})

/** A promise with its resolver. */
export interface Deferred<T = void> {
  readonly promise: Promise<T>
  resolve(value: T): void
}

/** A {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** What `runnerTracker()` returns: tracks runners, and stops them at the end of a test. */
export interface RunnerTracker {
  <W extends WorkflowWorker>(runner: W): W
  /** Stops (grace 0) every runner tracked in this test; call it at the end of the test. */
  stopAll(): Promise<void>
}

/**
 * Tracks the workflow workers a test starts. A test must stop them before it ends (`await
 * track.stopAll()`, or `runner.stop()`): an `afterEach` in the current `describe` stops any left
 * running and fails the test, as graphile-worker's tests fail on workers they did not release.
 */
export function runnerTracker(): RunnerTracker {
  return leakTracker<WorkflowWorker>(
    'workflow worker',
    (r) => [...r.workers.values()].some((w) => w.state === 'running' || w.state === 'stopping'),
    (r) => r.stop({ graceMs: 0 }),
  ) as RunnerTracker
}

/** The run by id, or fails the test. */
export async function getRun(store: Store, id: number): Promise<RunRecord> {
  const r = await store.runs.get(id)
  expect(r, `run ${id}`).not.toBeNull()
  return r!
}

/** Polls until run `id` has one of `statuses`; returns it. */
export function waitForRun(
  store: Store,
  id: number,
  statuses: RunStatus | readonly RunStatus[],
  timeoutMs = 10_000,
): Promise<RunRecord> {
  const want = (Array.isArray(statuses) ? statuses : [statuses]) as RunStatus[]
  let last: RunStatus | undefined
  return waitFor(
    async () => {
      const r = await store.runs.get(id)
      last = r?.status
      return r && want.includes(r.status) ? r : null
    },
    {
      timeoutMs,
      intervalMs: 20,
      get what() {
        return `run ${id} in ${want.join('|')} (last seen ${last ?? 'none'})`
      },
    },
  )
}

/**
 * Polls until run `id` is `status` (SLEEPING or PAUSED) AND its message has been released (no
 * lease): the delivery that suspended the run has finished settling it. Returns the run.
 */
export function waitForSuspended(
  store: Store,
  id: number,
  status: 'SLEEPING' | 'PAUSED',
  timeoutMs = 10_000,
): Promise<RunRecord> {
  return waitFor(
    async () => {
      const r = await store.runs.get(id)
      if (r?.status !== status) return null
      const m = await store.messages.get(r.messageId)
      return m && m.lease === null ? r : null
    },
    { timeoutMs, intervalMs: 20, what: `run ${id} ${status} with its message released` },
  )
}

/** Polls until step `key` of run `runId` satisfies `ok`; returns it. */
export function waitForStep(
  store: Store,
  runId: number,
  key: string,
  ok: (s: StepRecord) => boolean,
  timeoutMs = 10_000,
): Promise<StepRecord> {
  return waitFor(
    async () => {
      const s = await store.steps.get(runId, key)
      return s && ok(s) ? s : null
    },
    { timeoutMs, intervalMs: 10, what: `step ${key} of run ${runId}` },
  )
}

/** Polls until message `id` is archived; returns it. */
export function waitForArchived(
  store: Store,
  id: number,
  timeoutMs = 10_000,
): Promise<QueueMessage> {
  return waitFor(
    async () => {
      const m = await store.messages.get(id)
      return m?.archivedAt ? m : null
    },
    { timeoutMs, intervalMs: 20, what: `message ${id} archived` },
  )
}

/** The message by id, or fails the test. */
export async function getMessage(store: Store, id: number): Promise<QueueMessage> {
  const m = await store.messages.get(id)
  expect(m, `message ${id}`).not.toBeNull()
  return m!
}

/** The steps of a run as `[key, status, output]` triples, in the order they started. */
export async function stepSummary(
  store: Store,
  runId: number,
): Promise<[string, string, unknown][]> {
  return (await store.steps.list(runId)).map((s) => [s.stepKey, s.status, s.output])
}

/**
 * Leases the next message of `queue` (polling until one is visible) with `leaseMs`; fails the test
 * after `timeoutMs`.
 */
export function leaseNext(
  store: Store,
  queue: string,
  leaseMs: number,
  timeoutMs = 10_000,
): Promise<QueueMessage> {
  return waitFor(async () => (await store.messages.dequeue(queue, { batchSize: 1, leaseMs }))[0], {
    timeoutMs,
    intervalMs: 20,
    what: `a message of ${queue}`,
  })
}

/** A workflow body that fails the test if the engine ever calls it. */
export function mustNotRun(calls: { n: number }): () => never {
  return () => {
    calls.n++
    throw new Error('user code ran although it must not')
  }
}
