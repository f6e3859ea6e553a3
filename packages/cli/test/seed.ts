import type { Store } from '@pgqrs/core'
import { expect } from 'vitest'
import { openStore } from '../src/open-store.js'

/** Opens the store of `dsn` with the library (not the CLI), runs `fn`, closes it. */
export async function withLibrary<T>(
  dsn: string,
  fn: (store: Store) => Promise<T>,
  schema?: string,
): Promise<T> {
  const store = await openStore(dsn, { logger: false, ...(schema ? { schema } : {}) })
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/** Enqueues one message with one attempt to `queue` (which must have no other pending message), fails it: dead. */
export async function seedDead(store: Store, queue: string, payload: unknown): Promise<number> {
  const [sent] = await store.messages.enqueue(queue, [{ payload, maxAttempts: 1 }])
  const [leased] = await store.messages.dequeue(queue, { batchSize: 1, leaseMs: 60_000 })
  expect(leased?.id).toBe(sent!.id)
  expect(await store.messages.fail(leased!, 'boom: mail server down', 0)).toBe('dead')
  return sent!.id
}

/**
 * Two runs of `workflow`: the first ran step `fetch` (output `{ rows: 3 }`) and succeeded with
 * `{ sent: 3 }`; the second is still QUEUED.
 */
export async function seedRuns(
  store: Store,
  workflow: string,
): Promise<{ done: number; queued: number }> {
  await store.workflows.ensure(workflow)
  const { run: done } = await store.runs.start(workflow, { day: '2026-11-23' })
  const [m] = await store.messages.dequeue(workflow, { batchSize: 1, leaseMs: 60_000 })
  const lease = m!.lease
  await store.runs.transition(done.id, { to: 'RUNNING', lease })
  await store.steps.acquire(done.id, 'fetch', lease)
  expect(await store.steps.complete(done.id, 'fetch', { rows: 3 }, lease)).toBe(true)
  await store.runs.transition(done.id, { to: 'SUCCESS', lease, output: { sent: 3 } })
  const { run: queued } = await store.runs.start(workflow, { day: '2026-11-24' })
  return { done: done.id, queued: queued.id }
}
