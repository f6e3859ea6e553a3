/**
 * Collects single calls into batched calls: `add(item)` resolves with that item's result once the
 * batch it landed in has run. A batch runs when `maxSize` items are waiting, or on the next turn
 * of the event loop otherwise, so a lone call waits no timer. Used by workers to archive many
 * finished messages in one statement instead of one round trip each.
 */
export class Batcher<I, R> {
  readonly #run: (items: I[]) => Promise<R[]>
  readonly #maxSize: number
  #pending: { item: I; resolve: (r: R) => void; reject: (e: unknown) => void }[] = []
  #scheduled = false

  constructor(run: (items: I[]) => Promise<R[]>, maxSize: number) {
    this.#run = run
    this.#maxSize = Math.max(1, maxSize)
  }

  /** Queues `item`; resolves with its result from the batch. */
  add(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject })
      if (this.#pending.length >= this.#maxSize) this.#flush()
      else if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => this.#flush())
      }
    })
  }

  #flush(): void {
    this.#scheduled = false
    const batch = this.#pending
    if (batch.length === 0) return
    this.#pending = []
    this.#run(batch.map((p) => p.item)).then(
      (results) => {
        for (const [i, p] of batch.entries()) p.resolve(results[i]!)
      },
      (e) => {
        for (const p of batch) p.reject(e)
      },
    )
  }
}
