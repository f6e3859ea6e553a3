import {
  NotFoundError,
  type RunRecord,
  type SendEventOptions,
  type SentEvent,
  type Store,
  TERMINAL_RUN_STATUSES,
  TimeoutError,
  validateInt,
} from '@pgqrs/core'
import { CancelledError, WorkflowFailedError } from './errors.js'
import { sendEvent } from './events.js'

/** A started run: query its status, wait for its result, cancel it. */
export class RunHandle<O = unknown> {
  readonly store: Store
  readonly id: number
  readonly messageId: number

  constructor(store: Store, id: number, messageId: number) {
    this.store = store
    this.id = id
    this.messageId = messageId
  }

  /** The run record now. */
  async status(): Promise<RunRecord> {
    const r = await this.store.runs.get(this.id)
    if (!r) throw new NotFoundError('run', this.id)
    return r
  }

  /**
   * Waits for the run to finish: resolves to its output, throws `WorkflowFailedError` (ERROR),
   * `CancelledError` (CANCELLED) or `TimeoutError` after `timeoutMs` (default 30 s). Woken by
   * NOTIFY on Postgres, polling elsewhere.
   */
  async result(options: { timeoutMs?: number; pollIntervalMs?: number } = {}): Promise<O> {
    const timeoutMs = validateInt('timeoutMs', options.timeoutMs ?? 30_000, 0)
    const pollMs = validateInt(
      'pollIntervalMs',
      options.pollIntervalMs ?? (this.store.capabilities.notifications ? 1_000 : 100),
      1,
    )
    const deadline = Date.now() + timeoutMs
    let wake: (() => void) | null = null
    const sub = this.store.capabilities.notifications
      ? await this.store.listen([`run:${this.id}`], () => wake?.()).catch(() => null)
      : null
    try {
      for (;;) {
        const r = await this.status()
        if (TERMINAL_RUN_STATUSES.includes(r.status)) return settle<O>(r)
        const left = deadline - Date.now()
        if (left <= 0)
          throw new TimeoutError(`result() of run ${this.id} (status ${r.status})`, timeoutMs)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, pollMs))
          wake = () => {
            clearTimeout(t)
            resolve()
          }
        })
        wake = null
      }
    } finally {
      await sub?.close()
    }
  }

  /** Sends event `name` to this run: see {@link sendEvent}. */
  send(name: string, payload: unknown, options: SendEventOptions = {}): Promise<SentEvent> {
    return sendEvent(this.store, this.id, name, payload, options)
  }

  /**
   * The value the run published under `key` with `ctx.setEvent` (the latest one), waiting up to
   * `timeoutMs` (default 30 s; 0 reads once) for it to be set. Resolves to `undefined` when none
   * was set in time, or when the run ended without setting it. Woken by NOTIFY on Postgres,
   * polling elsewhere.
   */
  async getEvent<T = unknown>(
    key: string,
    options: { timeoutMs?: number; pollIntervalMs?: number } = {},
  ): Promise<T | undefined> {
    const timeoutMs = validateInt('timeoutMs', options.timeoutMs ?? 30_000, 0)
    const pollMs = validateInt(
      'pollIntervalMs',
      options.pollIntervalMs ?? (this.store.capabilities.notifications ? 1_000 : 100),
      1,
    )
    const deadline = Date.now() + timeoutMs
    let wake: (() => void) | null = null
    const first = await this.store.events.getValue(this.id, key)
    if (first) return first.value as T
    if (timeoutMs === 0) return undefined
    const sub = this.store.capabilities.notifications
      ? await this.store.listen([`value:${this.id}`], () => wake?.()).catch(() => null)
      : null
    try {
      for (;;) {
        const got = await this.store.events.getValue(this.id, key)
        if (got) return got.value as T
        const r = await this.status()
        if (TERMINAL_RUN_STATUSES.includes(r.status)) {
          // it may have set the value just before it ended
          const last = await this.store.events.getValue(this.id, key)
          return last ? (last.value as T) : undefined
        }
        const left = deadline - Date.now()
        if (left <= 0) return undefined
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, pollMs))
          wake = () => {
            clearTimeout(t)
            resolve()
          }
        })
        wake = null
      }
    } finally {
      await sub?.close()
    }
  }

  /**
   * Asks the run to stop: CANCELLING now, CANCELLED at its next step boundary or delivery (a step
   * already running finishes). A QUEUED, sleeping or paused run is woken so that this happens soon.
   */
  async cancel(): Promise<RunRecord> {
    const r = await this.store.runs.transition(this.id, { to: 'CANCELLING', lease: null })
    await this.store.messages.reschedule(this.messageId, 0)
    return r
  }
}

function settle<O>(r: RunRecord): O {
  if (r.status === 'SUCCESS') return r.output as O
  if (r.status === 'CANCELLED') throw new CancelledError(r.id)
  throw new WorkflowFailedError(r.id, r.error)
}
