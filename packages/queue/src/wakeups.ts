import type { Store } from '@pgqrs/core'

type Listener = () => void
const buses = new WeakMap<Store, Map<string, Set<Listener>>>()

/** In-process wake-up: producers of this process nudge idle workers of the same store and queue. */
export function onLocalEnqueue(store: Store, queue: string, fn: Listener): () => void {
  let bus = buses.get(store)
  if (!bus) {
    bus = new Map()
    buses.set(store, bus)
  }
  let set = bus.get(queue)
  if (!set) {
    set = new Set()
    bus.set(queue, set)
  }
  set.add(fn)
  return () => {
    set.delete(fn)
  }
}

/** Tells this process's idle workers of `queue` that something was enqueued. */
export function notifyLocalEnqueue(store: Store, queue: string): void {
  const set = buses.get(store)?.get(queue)
  if (set) for (const fn of set) fn()
}
