import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import {
  ANONYMOUS_WORKER_PREFIX,
  ANONYMOUS_WORKER_RETENTION_MS,
  type Store,
  ValidationError,
  WorkerActiveError,
  type WorkerRecord,
} from '@pgqrs/core'

const identities = new WeakMap<Store, Promise<WorkerRecord>>()

/**
 * A random id of this process instance, recorded with every worker row it registers: a process
 * restarted with the same host name and pid (a container's PID 1) is a different instance, so it
 * can tell its crashed predecessor's row from a live twin's.
 */
export const PROCESS_INSTANCE: string = randomBytes(12).toString('hex')

/**
 * The one worker row this process uses for unnamed producers and consumers of `store`: registered
 * on first use, then reused (no row per call).
 */
export function processIdentity(store: Store): Promise<WorkerRecord> {
  let id = identities.get(store)
  if (!id) {
    id = registerAnonymous(store, null)
    id.catch(() => identities.delete(store))
    identities.set(store, id)
  }
  return id
}

/**
 * Removes rows of anonymous workers that stopped more than {@link ANONYMOUS_WORKER_RETENTION_MS}
 * ago. Called whenever an anonymous row is registered, so the registry holds at most the anonymous
 * rows of one retention period. Best effort: a failure is ignored (the next registration retries).
 * @internal
 */
export async function purgeOldAnonymous(store: Store): Promise<void> {
  try {
    await store.workers.purgeStopped?.({
      olderThanMs: ANONYMOUS_WORKER_RETENTION_MS,
      anonymousOnly: true,
    })
  } catch {
    // retention is housekeeping: it never fails a registration
  }
}

/**
 * Registers an anonymous worker row (an unnamed worker loop of `queue`, or the process identity
 * when `queue` is null), named `anon:` + host, pid and a random suffix, and purges the stopped
 * anonymous rows past their retention. @internal
 */
export async function registerAnonymous(store: Store, queue: string | null): Promise<WorkerRecord> {
  const suffix = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
  const name = `${ANONYMOUS_WORKER_PREFIX}${queue === null ? '' : `${queue}:`}${suffix}`.slice(
    0,
    255,
  )
  const record = await store.workers.register({
    name,
    queue,
    hostname: hostname(),
    pid: process.pid,
    instance: PROCESS_INSTANCE,
  })
  void purgeOldAnonymous(store)
  return record
}

/** Throws `ValidationError` when an application-given worker name uses the anonymous prefix. @internal */
export function checkGivenName(name: string): void {
  if (name.startsWith(ANONYMOUS_WORKER_PREFIX)) {
    throw new ValidationError(
      'worker name',
      name,
      `a name that does not start with "${ANONYMOUS_WORKER_PREFIX}"`,
      `Invalid worker name "${name.slice(0, 60)}": names starting with "${ANONYMOUS_WORKER_PREFIX}" are reserved for the rows pgqrs registers for unnamed workers (removed once stopped for a day)`,
    )
  }
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
 * True when `old`, a live registration on this host, was left by a process that is gone: its pid
 * is not running, or it is our own pid but another instance registered it (this process was
 * restarted with the same pid, as a container's PID 1 is). @internal
 */
export function leftByGoneProcess(old: WorkerRecord): boolean {
  if (old.hostname !== hostname()) return false
  if (old.pid === process.pid) return old.instance !== PROCESS_INSTANCE
  return !pidAlive(old.pid)
}

/**
 * Registers a named worker (a producer, consumer or worker loop) for `queue`. A live registration
 * of the name left by a crashed process of THIS host (its pid is gone, or it is our pid in another
 * instance: a restarted container) is taken over, so a worker restarted right after a crash does
 * not have to wait until its old row goes stale. A live twin is refused (`WorkerActiveError`);
 * an operator frees a name held by a dead process on another host with `pgqrs workers reclaim`.
 */
export async function registerNamed(
  store: Store,
  name: string,
  queue: string | null,
): Promise<WorkerRecord> {
  checkGivenName(name)
  const me = { name, queue, hostname: hostname(), pid: process.pid, instance: PROCESS_INSTANCE }
  try {
    return await store.workers.register(me)
  } catch (e) {
    if (!WorkerActiveError.is(e)) throw e
    const old = await store.workers.getByName(name)
    if (!old || !leftByGoneProcess(old)) throw e
    return store.workers.register({ ...me, takeOverAfterMs: 0 })
  }
}
