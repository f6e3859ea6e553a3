import {
  NotFoundError,
  type RunRecord,
  type Store,
  TERMINAL_RUN_STATUSES,
  TimeoutError,
  validateInt,
} from '@pgqrs/core'
import { CancelledError, WorkflowFailedError } from './errors.js'

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
