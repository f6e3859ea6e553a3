import { EventEmitter } from 'node:events'
import {
  ConfigError,
  type ScheduleRecord,
  type Store,
  type StoreRepositories,
  toError,
  withScope,
} from '@pgqrs/core'
import { cronOf, MAX_CATCH_UP, nextTick } from './schedule.js'
import { notifyLocalEnqueue } from './wakeups.js'

/** Options of a {@link Scheduler}. */
export interface SchedulerOptions {
  /**
   * Longest wait between two reads of the due schedules (one statement each); the scheduler also
   * wakes when the earliest schedule it read is due. A schedule defined by another process is seen
   * within this delay. Default 1 000 ms.
   */
  readonly pollIntervalMs?: number
}

/** Events of a {@link Scheduler}. */
export interface SchedulerEvents {
  /**
   * A tick was fired: the message it enqueued (null when `overlap: 'skip'` skipped it), and
   * whether it was a missed tick fired late by `catchUp`.
   */
  tick: [schedule: string, tick: Date, messageId: number | null, missed: boolean]
  error: [error: Error]
}

/** Schedules read per poll (the due ones and the next); a full page polls again at once. */
const DUE_LIMIT = 32
/** A pattern that never fires again parks its schedule here. */
const NEVER = new Date(253_402_300_799_000) // 9999-12-31T23:59:59Z

/**
 * The ticks of `s` to fire at `now`: every due tick at most `graceMs` old (on time), plus the
 * missed ones (older) as `catchUp` says: none, the latest, or all of them (at most
 * {@link MAX_CATCH_UP}). Ascending. @internal
 */
export function ticksToFire(
  s: ScheduleRecord,
  now: Date,
  graceMs: number,
): { at: Date; missed: boolean }[] {
  const cron = cronOf(s.cron, s.timezone)
  const due = s.nextRunAt.getTime()
  const onTimeFrom = Math.max(due, now.getTime() - graceMs)
  const ticks: { at: Date; missed: boolean }[] = []
  if (due < onTimeFrom && s.catchUp !== 'none') {
    // previousRuns strips milliseconds: ask from a second later and keep the ticks before onTimeFrom
    const missed = cron
      .previousRuns(s.catchUp === 'all' ? MAX_CATCH_UP + 2 : 3, new Date(onTimeFrom + 1000))
      .filter((t) => t.getTime() >= due && t.getTime() < onTimeFrom)
      .sort((a, b) => a.getTime() - b.getTime())
    const fire = s.catchUp === 'all' ? missed.slice(-MAX_CATCH_UP) : missed.slice(-1)
    for (const at of fire) ticks.push({ at, missed: true })
  }
  let t: Date | null = due >= onTimeFrom ? s.nextRunAt : cron.nextRun(new Date(onTimeFrom - 1))
  while (t !== null && t.getTime() <= now.getTime() && ticks.length < 2 * MAX_CATCH_UP) {
    ticks.push({ at: t, missed: false })
    t = cron.nextRun(t)
  }
  return ticks
}

/** The dedupe key (queue) or idempotency key (workflow) of one tick. */
export function tickKey(schedule: string, tick: Date): string {
  return `schedule:${schedule}:${tick.toISOString()}`
}

async function isActive(tx: StoreRepositories, messageId: number): Promise<boolean> {
  const m = await tx.messages.get(messageId)
  return m !== null && m.archivedAt === null && m.deadAt === null
}

async function enqueueTick(tx: StoreRepositories, s: ScheduleRecord, tick: Date): Promise<number> {
  const key = tickKey(s.name, tick)
  const payload = s.payload === undefined ? {} : s.payload
  if (s.kind === 'workflow') {
    const { message } = await tx.runs.start(s.target, payload, { idempotencyKey: key })
    return message.id
  }
  const [m] = await tx.messages.enqueue(s.target, [{ payload, dedupeKey: key }])
  return m!.id
}

/**
 * Fires the ticks of cron schedules (see {@link schedule}). Each poll reads the due schedules in
 * one statement; each due schedule is then fired in one transaction that first claims the tick
 * (a compare-and-set on the schedule's revision: of all schedulers on every host, exactly one
 * wins), then enqueues. A tick is on time when a scheduler sees it within `pollIntervalMs + 1 s`
 * of its time; older ones are missed and follow the schedule's `catchUp`.
 *
 * Workers run one per process and store by default (`WorkerOptions.scheduler`); run one yourself
 * in a process that has no worker.
 *
 * @example
 * ```ts
 * const s = new pgqrs.Scheduler(store)
 * s.start()
 * // …
 * await s.stop()
 * ```
 */
export class Scheduler extends EventEmitter<SchedulerEvents> {
  readonly store: Store
  readonly pollIntervalMs: number
  /** How late a tick may be seen and still count as on time (`pollIntervalMs + 1000`). */
  readonly graceMs: number
  #stop: AbortController | null = null
  #loop: Promise<void> | null = null
  readonly #log

  constructor(store: Store, options: SchedulerOptions = {}) {
    super()
    this.store = store
    const poll = options.pollIntervalMs ?? 1000
    if (!Number.isInteger(poll) || poll < 10 || poll > 3_600_000)
      throw new ConfigError(
        'pollIntervalMs',
        `Invalid scheduler option pollIntervalMs: ${String(poll)}; use an integer from 10 to 3600000`,
      )
    this.pollIntervalMs = poll
    this.graceMs = poll + 1000
    this.#log = withScope(store.config.logger, { scheduler: true })
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.#stop !== null
  }

  /** Starts polling (nothing happens when the store has no schedules repository). */
  start(): this {
    if (this.#stop || !this.store.schedules) return this
    const stop = new AbortController()
    this.#stop = stop
    this.#loop = this.#run(stop.signal)
    return this
  }

  /** Stops polling; resolves once a fire in progress has finished. Safe to call twice. */
  async stop(): Promise<void> {
    this.#stop?.abort()
    this.#stop = null
    await this.#loop
    this.#loop = null
  }

  async #run(signal: AbortSignal): Promise<void> {
    let errors = 0
    while (!signal.aborted) {
      let wait = this.pollIntervalMs
      try {
        const started = performance.now()
        const { more, untilNextMs } = await this.pollOnce()
        errors = 0
        if (more) wait = 0
        else if (untilNextMs !== null)
          wait = Math.min(wait, Math.max(0, untilNextMs - (performance.now() - started)))
      } catch (e) {
        errors++
        wait = Math.min(30_000, 100 * 2 ** Math.min(errors, 10))
        this.#emitError(e)
      }
      await sleep(wait, signal)
    }
  }

  /**
   * One poll: reads the due schedules (one statement) and fires each. Returns whether a full page
   * was due (poll again at once) and the ms until the next schedule read is due (database clock).
   */
  async pollOnce(): Promise<{ fired: number; more: boolean; untilNextMs: number | null }> {
    const repo = this.store.schedules
    if (!repo) return { fired: 0, more: false, untilNextMs: null }
    const { now, due, nextRunAt } = await repo.due(DUE_LIMIT)
    let fired = 0
    let earliest = nextRunAt?.getTime() ?? Number.POSITIVE_INFINITY
    for (const s of due) {
      try {
        const r = await this.#fire(s, now as Date)
        fired += r.fired
        earliest = Math.min(earliest, r.next.getTime())
      } catch (e) {
        // one schedule's failure (its queue was deleted, say) does not hold the others up
        this.#emitError(e)
      }
    }
    const untilNextMs =
      now === null || earliest === Number.POSITIVE_INFINITY ? null : earliest - now.getTime()
    return { fired, more: due.length === DUE_LIMIT, untilNextMs }
  }

  /** Claims and fires the due ticks of `s` in one transaction; returns the ticks fired and its next tick. */
  async #fire(s: ScheduleRecord, now: Date): Promise<{ fired: number; next: Date }> {
    const ticks = ticksToFire(s, now, this.graceMs)
    const next = nextTick(s.cron, s.timezone, now) ?? NEVER
    const fired: [Date, number | null, boolean][] = []
    await this.store.transaction(async (tx) => {
      fired.length = 0
      const repo = tx.schedules
      if (!repo) return
      const won = await repo.claim(s.name, s.revision, next, ticks.at(-1)?.at ?? null)
      if (!won) return // another scheduler fired it first, or it changed meanwhile
      let last = s.lastMessageId
      for (const { at, missed } of ticks) {
        if (s.overlap === 'skip' && last !== null && (await isActive(tx, last))) {
          fired.push([at, null, missed])
          continue
        }
        last = await enqueueTick(tx, s, at)
        fired.push([at, last, missed])
      }
      if (last !== null && last !== s.lastMessageId) await repo.recordMessage(s.name, last)
    })
    // wake this process's idle workers of the queue (other processes get NOTIFY, or poll)
    if (fired.some(([, id]) => id !== null)) notifyLocalEnqueue(this.store, s.target)
    for (const [at, id, missed] of fired) this.emit('tick', s.name, at, id, missed)
    return { fired: fired.length, next }
  }

  #emitError(e: unknown): void {
    const error = toError(e)
    if (this.listenerCount('error') > 0) this.emit('error', error)
    else this.#log.error(`scheduler error: ${error.message}`, { error })
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

interface Shared {
  readonly scheduler: Scheduler
  users: number
}

/** The process's shared scheduler per store, started by the first worker and stopped by the last. */
const shared = new WeakMap<Store, Shared>()

/**
 * Takes a share of the process's scheduler of `store` (started on first use): workers call it so
 * that a process polls schedules once, however many workers it runs. Call the returned function
 * `release` to give the share back; the last one stops the scheduler. @internal
 */
export function acquireScheduler(
  store: Store,
  options: SchedulerOptions = {},
): { scheduler: Scheduler; release: () => Promise<void> } {
  let entry = shared.get(store)
  if (!entry) {
    entry = { scheduler: new Scheduler(store, options).start(), users: 0 }
    shared.set(store, entry)
  }
  entry.users++
  const e = entry
  let released = false
  const release = async () => {
    if (released) return
    released = true
    if (--e.users > 0) return
    if (shared.get(store) === e) shared.delete(store)
    await e.scheduler.stop()
  }
  return { scheduler: e.scheduler, release }
}
