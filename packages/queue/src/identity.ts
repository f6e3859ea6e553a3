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

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'
  }
}

/**
 * Registers a named worker (a producer, consumer or worker loop) for `queue`. A live registration
 * of the name left by a crashed process of THIS host (its pid is gone) is taken over, so a worker
 * restarted right after a crash does not have to wait until its old row goes stale.
 */
export async function registerNamed(
  store: Store,
  name: string,
  queue: string | null,
): Promise<WorkerRecord> {
  const me = { name, queue, hostname: hostname(), pid: process.pid }
  try {
    return await store.workers.register(me)
  } catch (e) {
    if (!WorkerActiveError.is(e)) throw e
    const old = await store.workers.getByName(name)
    if (!old || old.hostname !== me.hostname || old.pid === process.pid || pidAlive(old.pid))
      throw e
    return store.workers.register({ ...me, takeOverAfterMs: 0 })
  }
}
