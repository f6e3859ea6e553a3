import type { QueueMetrics } from '@pgqrs/core'

/** The counts of every queue at one instant. */
export interface MetricsSample {
  /** Epoch ms (the dashboard process's clock) when the sample was read. */
  readonly at: number
  readonly queues: readonly QueueMetrics[]
}

/** Rates between two consecutive samples, for the charts. */
export interface RatePoint {
  /** End of the interval, epoch ms. */
  readonly at: number
  /** Messages archived per second (handled successfully). */
  readonly throughput: number
  /** Messages enqueued per second (new rows; a message deleted within the interval is not seen). */
  readonly enqueued: number
  /** Dead letters among the messages finished in the interval (0..1); null when none finished. */
  readonly failureRate: number | null
}

/** Options of {@link MetricsSampler}. */
export interface SamplerOptions {
  /** Time between two samples; default 5 000 ms. */
  readonly intervalMs?: number
  /** Samples kept (a ring buffer); default 360, i.e. 30 minutes at 5 s. */
  readonly capacity?: number
  /** Sampling pauses when nobody asked for the dashboard for this long; default 600 000 ms. */
  readonly idleMs?: number
}

const total = (m: QueueMetrics) => m.pending + m.leased + m.delayed + m.archived + m.dead

/**
 * The rates between samples `a` and `b` (of one queue, or of all). Counts that went down (a purge,
 * a replay) count as zero, so a purge hides the completions of its own interval.
 */
export function ratesBetween(a: MetricsSample, b: MetricsSample, queue?: string): RatePoint {
  const before = new Map(a.queues.map((m) => [m.name, m]))
  let archived = 0
  let dead = 0
  let enqueued = 0
  for (const m of b.queues) {
    if (queue !== undefined && m.name !== queue) continue
    const p = before.get(m.name)
    if (!p) continue
    archived += Math.max(0, m.archived - p.archived)
    dead += Math.max(0, m.dead - p.dead)
    enqueued += Math.max(0, total(m) - total(p))
  }
  const seconds = Math.max(0.001, (b.at - a.at) / 1000)
  const finished = archived + dead
  return {
    at: b.at,
    throughput: archived / seconds,
    enqueued: enqueued / seconds,
    failureRate: finished === 0 ? null : dead / finished,
  }
}

/**
 * Samples the queue counts on a timer into a ring buffer, so that page views read the last sample
 * instead of counting the archive themselves: the database sees one metrics query per interval
 * however many people look, and none while nobody does (after `idleMs`). The chart's history starts
 * when the dashboard is first viewed and holds `capacity` samples.
 */
export class MetricsSampler {
  readonly #read: () => Promise<QueueMetrics[]>
  readonly #intervalMs: number
  readonly #capacity: number
  readonly #idleMs: number
  readonly #samples: MetricsSample[] = []
  #timer: NodeJS.Timeout | undefined
  #inFlight: Promise<MetricsSample> | undefined
  #lastTouch = 0
  #lastError: Error | undefined
  #closed = false

  /** A sampler reading the counts with `read`; it starts on the first {@link MetricsSampler.touch}. */
  constructor(read: () => Promise<QueueMetrics[]>, options: SamplerOptions = {}) {
    this.#read = read
    this.#intervalMs = options.intervalMs ?? 5_000
    this.#capacity = options.capacity ?? 360
    this.#idleMs = options.idleMs ?? 600_000
  }

  /** Milliseconds between samples. */
  get intervalMs(): number {
    return this.#intervalMs
  }

  /** The error of the last sample, when it failed (cleared by the next one that works). */
  get lastError(): Error | undefined {
    return this.#lastError
  }

  /** Notes that someone is looking: starts the timer, and keeps it sampling for `idleMs`. */
  touch(): void {
    this.#lastTouch = Date.now()
    if (this.#timer || this.#closed) return
    this.#timer = setInterval(() => {
      if (Date.now() - this.#lastTouch > this.#idleMs) return
      this.sample().catch(() => {})
    }, this.#intervalMs)
    this.#timer.unref()
  }

  /** Reads a sample now (joins one that is already being read). */
  sample(): Promise<MetricsSample> {
    this.#inFlight ??= this.#read()
      .then((queues) => {
        const s: MetricsSample = { at: Date.now(), queues }
        this.#samples.push(s)
        if (this.#samples.length > this.#capacity) this.#samples.shift()
        this.#lastError = undefined
        return s
      })
      .catch((e: unknown) => {
        this.#lastError = e instanceof Error ? e : new Error(String(e))
        throw this.#lastError
      })
      .finally(() => {
        this.#inFlight = undefined
      })
    return this.#inFlight
  }

  /**
   * The newest sample, for a page view. A sample older than two intervals is returned as it is
   * while a fresh one is read in the background. Before the first sample, waits for it at most
   * `waitMs` and resolves to null when it takes longer (the page then shows its counts with the
   * next live refresh), so that no page view waits for a slow count of the archive.
   */
  async current(waitMs = Number.POSITIVE_INFINITY): Promise<MetricsSample | null> {
    const last = this.#samples.at(-1)
    if (last) {
      if (Date.now() - last.at > 2 * this.#intervalMs) this.sample().catch(() => {})
      return last
    }
    const first = this.sample()
    if (!Number.isFinite(waitMs)) return first
    first.catch(() => {}) // reported through lastError if nobody waits for it any more
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), waitMs)
    })
    try {
      return await Promise.race([first, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Rates between consecutive samples, oldest first (of one queue, or of all). */
  rates(queue?: string): RatePoint[] {
    const points: RatePoint[] = []
    for (let i = 1; i < this.#samples.length; i++) {
      points.push(ratesBetween(this.#samples[i - 1]!, this.#samples[i]!, queue))
    }
    return points
  }

  /** Stops the timer; safe to call twice. */
  close(): void {
    this.#closed = true
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
