import type {
  EventRecord,
  QueueMessage,
  RunRecord,
  RunStatus,
  StepRecord,
  WorkflowRecord,
} from '../types.js'
import type { PageOptions } from './page.js'

/** Workflow definitions; each name maps 1:1 to a queue of the same name. */
export interface WorkflowRepository {
  /** Get-or-create the workflow and its queue; safe under concurrency. */
  ensure(name: string): Promise<WorkflowRecord>
  get(name: string): Promise<WorkflowRecord | null>
  /** Workflows by name, one page (default 100, at most 1000) after the name `after`. */
  list(options?: PageOptions<string>): Promise<WorkflowRecord[]>
}

/** Options of {@link RunRepository.start}. */
export interface StartRunOptions {
  /** A second start with the same key returns the first run instead of a new one. */
  readonly idempotencyKey?: string | null
  readonly delayMs?: number
  readonly priority?: number
  /** Past this instant the run ends ERROR with a `TimeoutError`, waiting or not. */
  readonly deadline?: Date | null
  /**
   * The workflow version (default 1). Version 1 runs go to the workflow's queue; version N > 1
   * runs to the queue `<workflow>:v<N>` (created when missing), so that only workers that
   * register version N claim them.
   */
  readonly version?: number
  /**
   * The run starts as a child of run `runId`, from its step `stepKey` (`ctx.startChild`): the run
   * records both, it is listed by `list({ parentId })`, it wakes the parent when it ends while the
   * parent awaits it, and cancelling the parent cancels it.
   */
  readonly parent?: { readonly runId: number; readonly stepKey: string } | null
  /**
   * Stored with the run's message like an enqueue's headers (the W3C `traceparent` of the starter's
   * span, so that every delivery of the run continues the starter's trace); see
   * `EnqueueItem.headers`.
   */
  readonly headers?: Readonly<Record<string, string>> | null
}

/** A change of run status by {@link RunRepository.transition}. */
export interface RunTransition {
  readonly to: RunStatus
  /**
   * Lease token of the run's message: the change applies only while that lease is current. An
   * operator's change (cancel, resume) passes `null` explicitly; leaving it out is a
   * `ValidationError`, so that no write goes unfenced by omission.
   */
  readonly lease: string | null
  readonly output?: unknown
  readonly error?: unknown
  /** SLEEPING / PAUSED: when the run wakes. */
  readonly wakeAt?: Date | null
}

/** The last change of a run by {@link RunRepository.end}: a terminal status, fenced by a lease. */
export interface RunEnding {
  readonly to: 'SUCCESS' | 'ERROR' | 'CANCELLED'
  /** Lease token of the run's message: the run ends, and the message is archived, only while it is current. */
  readonly lease: string
  readonly output?: unknown
  readonly error?: unknown
}

/** Filter of {@link RunRepository.list}. */
export interface ListRunsOptions {
  readonly workflow?: string
  readonly status?: RunStatus | readonly RunStatus[]
  readonly since?: Date
  /** Only the children of this run (started by its `ctx.startChild`). */
  readonly parentId?: number
  readonly limit?: number
}

/** One line of {@link RunRepository.counts}: how many runs of `workflow` are in `status`. */
export interface RunCount {
  readonly workflow: string
  readonly status: RunStatus
  readonly count: number
}

/** A published value of a run (see {@link EventRepository.values}). */
export interface RunValue {
  readonly key: string
  readonly value: unknown
  readonly updatedAt: Date
}

/** Workflow runs. */
export interface RunRepository {
  /**
   * Enqueues `{ input }` to the workflow's queue and creates the run (QUEUED) in one transaction.
   * With an idempotency key already used for this workflow, returns that run and its message.
   */
  start(
    workflow: string,
    input: unknown,
    options?: StartRunOptions,
  ): Promise<{ run: RunRecord; message: QueueMessage; created: boolean }>
  /** The run of a message, created QUEUED when missing (one statement; safe under concurrency). */
  getOrCreateForMessage(message: QueueMessage): Promise<RunRecord>
  get(id: number): Promise<RunRecord | null>
  getByMessage(messageId: number): Promise<RunRecord | null>
  /** Newest first; default limit 100. */
  list(options?: ListRunsOptions): Promise<RunRecord[]>
  /**
   * Guarded status change in one statement: allowed only from the statuses of `RUN_TRANSITIONS`
   * and, unless `lease` is null, only while that lease on the run's message is current. Throws
   * `LeaseLostError` when the lease is not current, `InvalidStateTransitionError` otherwise.
   */
  transition(id: number, change: RunTransition): Promise<RunRecord>
  /**
   * Optional (a shortcut: the workflow engine falls back to `transition` and `messages.archive`
   * in one `store.transaction`). Ends a run and archives its message, atomically: the run moves to
   * the terminal status `to` (from the statuses `RUN_TRANSITIONS` allows) and its message, leased
   * with `lease`, moves to the archive; otherwise nothing changes. Throws like {@link RunRepository.transition}
   * (`LeaseLostError` when the lease is not current, `InvalidStateTransitionError` otherwise).
   * One statement on Postgres, where a transition and an archive cost four round trips.
   */
  end?(id: number, ending: RunEnding): Promise<RunRecord>
  /**
   * Optional (telemetry's runs gauge and the dashboard read it; without it they show no exact
   * counts). Runs by workflow and status, counted in one statement, ordered by workflow and
   * status; at most `limit` lines (default 1000, at most 10 000). Statuses without runs are left
   * out.
   */
  counts?(options?: { readonly limit?: number }): Promise<RunCount[]>
}

/** Result of {@link StepRepository.acquire}. */
export interface AcquiredStep {
  /** The step; null when the run is CANCELLING or CANCELLED (then nothing was written). */
  readonly step: StepRecord | null
  /** True when the row was created by this call. */
  readonly created: boolean
  /** The run's status as seen by the same statement (so callers notice a cancel without a read). */
  readonly runStatus: RunStatus
}

/** Memoised steps, keyed by `(runId, stepKey)`. */
export interface StepRepository {
  /**
   * Upserts the step as RUNNING, keeping a SUCCESS step (and an ERROR step) unchanged; fenced by
   * the run message's lease (`LeaseLostError`). A run being cancelled gets no new step: `step` is
   * null and `runStatus` says why.
   */
  acquire(runId: number, stepKey: string, lease: string | null): Promise<AcquiredStep>
  /** RUNNING → SUCCESS with `output`; fenced. False when the step is not RUNNING. */
  complete(runId: number, stepKey: string, output: unknown, lease: string | null): Promise<boolean>
  /**
   * Optional (a shortcut: the workflow engine falls back to `acquire` then `complete`). Records a
   * step that ran without {@link StepRepository.acquire} as SUCCESS in one statement
   * (the workflow engine's path for a run's first delivery, which has no stored steps yet): the row
   * is inserted with `startedAt` `elapsedMs` before now; fenced like every step write
   * (`LeaseLostError`). `written` is false, and nothing changes, when a row for the key exists
   * already. `runStatus` is the run's status as seen by the same statement, so the caller notices a
   * cancel at this step boundary without another read.
   */
  record?(
    runId: number,
    stepKey: string,
    output: unknown,
    lease: string | null,
    elapsedMs?: number,
  ): Promise<{ readonly written: boolean; readonly runStatus: RunStatus }>
  /**
   * RUNNING → ERROR with `error`; `retryAt` null means no retry. `retryCount` + 1. Fenced.
   * False when the step is not RUNNING.
   */
  fail(
    runId: number,
    stepKey: string,
    error: unknown,
    retryAt: Date | null,
    lease: string | null,
  ): Promise<boolean>
  /**
   * ERROR with a due `retryAt` → RUNNING again (error cleared, retryCount kept). Fenced. With
   * `early`, a scheduled retry that is not due yet runs now (a paused run woken by `resumeRun`).
   */
  retry(
    runId: number,
    stepKey: string,
    lease: string | null,
    options?: { early?: boolean },
  ): Promise<boolean>
  get(runId: number, stepKey: string): Promise<StepRecord | null>
  /**
   * Steps of a run in the order they were first started (by step id), one page (default 100, at
   * most 1000) after the step id `after`.
   */
  list(runId: number, options?: PageOptions<number>): Promise<StepRecord[]>
}

/** Options of {@link EventRepository.send}. */
export interface SendEventOptions {
  /** A second send with the same key to the same run stores nothing and returns the first event. */
  readonly idempotencyKey?: string | null
}

/** Result of {@link EventRepository.send}. */
export interface SentEvent {
  readonly event: EventRecord
  /** False when the idempotency key was used already (then `event` is the first one). */
  readonly created: boolean
  /** True when the send woke the run (it was waiting for this name, its message released). */
  readonly woke: boolean
}

/**
 * Events into runs and values out of them. A run waits for an event with a wait step: the step is
 * RUNNING, marked with the event name, and the run's message is released until the wait's timeout;
 * `send` stores the event and makes that message visible at once (and, on Postgres, NOTIFYs the
 * workflow's queue), so the waiting run holds no worker and nothing polls for it.
 */
export interface EventRepository {
  /**
   * Stores an event for run `runId` (`NotFoundError` when there is no such run) and wakes the run
   * when it waits for `name`. Safe against a run that is falling asleep at the same moment: either
   * the wait sees the event when it settles, or the send sees the released message.
   */
  send(
    runId: number,
    name: string,
    payload: unknown,
    options?: SendEventOptions,
  ): Promise<SentEvent>
  /**
   * Takes the oldest pending event `name` of the run for wait step `stepKey` and completes that
   * step with `{ received: true, payload }`, in one transaction fenced by `lease`. Null when no
   * event is pending (nothing changes).
   */
  consume(
    runId: number,
    name: string,
    stepKey: string,
    lease: string | null,
  ): Promise<{ readonly payload: unknown } | null>
  /**
   * Marks the RUNNING wait step `stepKey` as waiting for `name` until `deadline` (kept in the
   * step's `retryAt`), fenced. False when the step is not RUNNING.
   */
  markWaiting(
    runId: number,
    stepKey: string,
    name: string,
    deadline: Date,
    lease: string | null,
  ): Promise<boolean>
  /** True when an event `name` of the run is pending (sent and not consumed). */
  pending(runId: number, name: string): Promise<boolean>
  /** The run's events, oldest first; at most `limit` when given (1 to 10 000). */
  list(runId: number, options?: { readonly limit?: number }): Promise<EventRecord[]>
  /** Publishes `value` under `key` for the run (latest wins); fenced by `lease`. */
  setValue(runId: number, key: string, value: unknown, lease: string | null): Promise<void>
  /** The value published under `key`, or null when none was. */
  getValue(runId: number, key: string): Promise<{ readonly value: unknown } | null>
  /**
   * Optional (the dashboard reads it). The values the run published (`setValue`), by key, at
   * most `limit` (default 100, at most 1000).
   */
  values?(runId: number, options?: { readonly limit?: number }): Promise<RunValue[]>
}
