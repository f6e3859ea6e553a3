import type { QueueMessage } from '@pgqrs/core'

/** A prefetched message and when its lease is next renewed (ms since the epoch). */
export interface Held<T> {
  readonly msg: QueueMessage<T>
  renewAt: number
}

/**
 * The worker's prefetch buffer (graphile-worker's "local queue"): messages claimed while every
 * handler slot was busy, handed to the next free slot in claim order. Bounded by the worker's
 * `prefetch` option (the worker never claims more than its free slots plus what is left of it).
 * Leases of held messages are renewed like those of running handlers; on `stop()` the worker
 * takes every held message back out and releases it, so a prefetched message is never lost and
 * never waits for a stopped worker.
 *
 * @internal
 */
export class LocalQueue<T> {
  #items: Held<T>[] = []

  /** Messages held now. */
  get size(): number {
    return this.#items.length
  }

  /** Holds `msg`; its lease is renewed from `renewAt` on. */
  push(msg: QueueMessage<T>, renewAt: number): void {
    this.#items.push({ msg, renewAt })
  }

  /** The oldest held message with its next renewal time, or undefined. */
  shift(): Held<T> | undefined {
    return this.#items.shift()
  }

  /** Removes and returns every held message (stop() releases them). */
  takeAll(): QueueMessage<T>[] {
    const all = this.#items.map((h) => h.msg)
    this.#items = []
    return all
  }

  /** Held messages whose renewal is due at `now`; each is rescheduled `every` ms later. */
  due(now: number, every: number): QueueMessage<T>[] {
    const out: QueueMessage<T>[] = []
    for (const h of this.#items) {
      if (h.renewAt > now) continue
      h.renewAt = now + every
      out.push(h.msg)
    }
    return out
  }

  /** Drops `msg` (its lease was taken over: the new holder handles it). */
  drop(msg: QueueMessage<T>): boolean {
    const i = this.#items.findIndex((h) => h.msg === msg)
    if (i < 0) return false
    this.#items.splice(i, 1)
    return true
  }
}
