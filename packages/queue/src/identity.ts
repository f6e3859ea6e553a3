import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { type Store, WorkerActiveError, type WorkerRecord } from '@pgqrs/core'

const identities = new WeakMap<Store, Promise<WorkerRecord>>()

/**
 * The one worker row this process uses for unnamed producers and consumers of `store`: registered
 * on first use, then reused (no row per call).
 */
export function processIdentity(store: Store): Promise<WorkerRecord> {
  let id = identities.get(store)
  if (!id) {
    const name = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
    id = store.workers.register({ name, hostname: hostname(), pid: process.pid })
    id.catch(() => identities.delete(store))
    identities.set(store, id)
  }
  return id
}

/** Registers a named worker (a producer, consumer or worker loop) for `queue`. */
export function registerNamed(
  store: Store,
  name: string,
  queue: string | null,
): Promise<WorkerRecord> {
  return store.workers.register({ name, queue, hostname: hostname(), pid: process.pid })
}
