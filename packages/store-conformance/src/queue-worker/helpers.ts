import type { QueueMessage, Store } from '@pgqrs/core'
import type { Worker } from '@pgqrs/queue'
import { expect } from 'vitest'
import { leakTracker, totalMessages } from '../util.js'

/** A promise with its resolver, for "the handler has started" style signals. */
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

/** What `workerTracker()` returns: tracks workers, and stops them at the end of a test. */
export interface WorkerTracker {
  <W extends Worker<any>>(worker: W): W
  /** Stops (grace 0) every worker tracked in this test; call it at the end of the test. */
  stopAll(): Promise<void>
}

/**
 * Tracks the queue workers a test starts. A test must stop them before it ends (`await
 * track.stopAll()`, or `worker.stop()`): an `afterEach` in the current `describe` stops any left
 * running and fails the test, as graphile-worker's tests fail on workers they did not release.
 */
export function workerTracker(): WorkerTracker {
  return leakTracker<Worker<any>>(
    'worker',
    (w) => w.state === 'running' || w.state === 'stopping',
    (w) => w.stop({ graceMs: 0 }),
  ) as WorkerTracker
}

/** What a test checks did not change after a refused call. */
export interface Snapshot {
  readonly queues: string[]
  readonly messages: number
  readonly active: QueueMessage[]
  readonly workers: number
}

/** Queue names, message count and active messages of `queue`, and the number of workers. */
export async function snapshot(store: Store, queue: string | null): Promise<Snapshot> {
  const queues = (await store.queues.list()).map((q) => q.name)
  const exists = queue !== null && queues.includes(queue)
  return {
    queues,
    messages: exists ? await totalMessages(store, queue) : 0,
    active: exists ? await store.messages.list(queue, { state: 'active', limit: 1000 }) : [],
    workers: (await store.workers.list()).length,
  }
}

/** Asserts that `store` looks as it did in `before` (see {@link snapshot}). */
export async function expectUnchanged(
  store: Store,
  queue: string | null,
  before: Snapshot,
): Promise<void> {
  expect(await snapshot(store, queue), 'stored state after a refused call').toEqual(before)
}

/** Runs `fn` synchronously and returns what it threw; fails the test when it returns instead. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return expect.fail('expected a synchronous throw')
}

/** The message by id, or fails the test. */
export async function getMessage(store: Store, id: number): Promise<QueueMessage> {
  const m = await store.messages.get(id)
  expect(m, `message ${id}`).not.toBeNull()
  return m!
}

/**
 * Replaces `store.messages.dequeue` with `wrap(original)` until the returned function is called
 * (used to record a worker's polls, or to inject store errors).
 */
export function patchDequeue(
  store: Store,
  wrap: (original: Store['messages']['dequeue']) => Store['messages']['dequeue'],
): () => void {
  const repo = store.messages as { dequeue: Store['messages']['dequeue'] }
  const original = repo.dequeue
  repo.dequeue = wrap(original.bind(store.messages))
  return () => {
    repo.dequeue = original
  }
}

/**
 * Claims every message of `queue` with a probe consumer and gives them back: the evidence that
 * nobody else holds them. A check that a stopped or suspended worker leased nothing rests on this
 * claim (an event), not on waiting a while and seeing nothing happen. Returns the payloads.
 */
export async function claimAllAsProbe(store: Store, queue: string): Promise<unknown[]> {
  const probe = await store.consumer(queue)
  const got = await probe.dequeue({ batchSize: 1000, leaseMs: 30_000 })
  if (got.length > 0) await store.messages.release(got)
  return got.map((m) => m.payload)
}
