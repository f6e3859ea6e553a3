/** Domain records shared by every pgqrs package. Times are `Date`s, ids are numbers. */

/** JSON value as stored in a payload, an output or an error. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue }

/** A named queue. */
export interface QueueRecord {
  readonly id: number
  readonly name: string
  readonly createdAt: Date
}

/** Where a message is in its life. */
export type MessageState = 'pending' | 'delayed' | 'leased' | 'archived' | 'dead'

/**
 * A queued message. While leased, `lease` holds the token that every lease operation must present:
 * a holder whose lease was taken over (expired, then redelivered) presents a stale token and is refused.
 */
export interface QueueMessage<T = unknown> {
  readonly id: number
  readonly queueId: number
  readonly queue: string
  readonly payload: T
  readonly priority: number
  readonly enqueuedAt: Date
  /** When the message is (or was) visible to dequeue; while leased, when the lease runs out. */
  readonly visibleAt: Date
  /** Deliveries so far (each dequeue adds one; `release` gives it back). */
  readonly attempts: number
  readonly maxAttempts: number
  /** The current lease token, or null when not leased. */
  readonly lease: string | null
  /** Worker id of the current (or last) holder. */
  readonly consumerId: number | null
  readonly producerId: number | null
  readonly dedupeKey: string | null
  readonly lastError: string | null
  readonly dequeuedAt: Date | null
  readonly archivedAt: Date | null
  readonly deadAt: Date | null
  /**
   * This message's handler timeout in ms (wins over the worker's `timeoutMs`); null when the
   * message has none. Optional for stores written before it existed.
   */
  readonly timeoutMs?: number | null
  /** A settled message: what its handler returned (JSON; undefined when nothing was stored). */
  readonly result?: unknown
  /** A settled message: when the delivery that settled it began (database clock); null when unknown. */
  readonly startedAt?: Date | null
  /** A settled message: when it was archived or dead-lettered (database clock); null while active. */
  readonly finishedAt?: Date | null
}

/** What a lease operation needs: the message id and the lease token it was delivered with. */
export interface LeaseRef {
  readonly id: number
  readonly lease: string | null
}

/** Worker statuses, with the original pgqrs transition table (see {@link WORKER_TRANSITIONS}). */
export const WORKER_STATUSES = ['ready', 'polling', 'suspended', 'interrupted', 'stopped'] as const
/** A worker's status. */
export type WorkerStatus = (typeof WORKER_STATUSES)[number]

/**
 * Allowed worker transitions: target status → statuses it may be entered from.
 * `suspend` ready|polling|interrupted → suspended; `resume` suspended → ready; entering a poll
 * ready|polling → polling; `interrupt` polling → interrupted; finishing a poll polling → ready;
 * `shutdown` suspended → stopped. Stale workers are marked stopped from any status.
 */
export const WORKER_TRANSITIONS: Readonly<Record<WorkerStatus, readonly WorkerStatus[]>> = {
  ready: ['suspended', 'polling'],
  polling: ['ready', 'polling'],
  suspended: ['ready', 'polling', 'interrupted'],
  interrupted: ['polling'],
  stopped: ['suspended'],
}

/** A registered producer, consumer or worker loop. */
export interface WorkerRecord {
  readonly id: number
  readonly name: string
  readonly queueId: number | null
  readonly hostname: string
  readonly pid: number
  /**
   * Random id of the process instance that registered the worker (null for rows registered
   * without one): tells a restarted process with the same host name and pid (a container's PID 1)
   * from the live process it replaces.
   */
  readonly instance: string | null
  readonly status: WorkerStatus
  readonly startedAt: Date
  readonly heartbeatAt: Date
  readonly shutdownAt: Date | null
}

/** A workflow definition; its name is also the name of its queue. */
export interface WorkflowRecord {
  readonly id: number
  readonly name: string
  readonly queueId: number
  readonly createdAt: Date
}

/** Run statuses. */
export const RUN_STATUSES = [
  'QUEUED',
  'RUNNING',
  'SLEEPING',
  'PAUSED',
  'CANCELLING',
  'CANCELLED',
  'SUCCESS',
  'ERROR',
] as const
/** A run's status. */
export type RunStatus = (typeof RUN_STATUSES)[number]
/** Statuses a run never leaves. */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['CANCELLED', 'SUCCESS', 'ERROR']

/**
 * Allowed run transitions: target status → statuses it may be entered from.
 * Completion and failure happen only from RUNNING (and only by the current lease holder).
 */
export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  QUEUED: [],
  RUNNING: ['QUEUED', 'RUNNING', 'SLEEPING', 'PAUSED'],
  SLEEPING: ['RUNNING'],
  PAUSED: ['RUNNING'],
  CANCELLING: ['QUEUED', 'RUNNING', 'SLEEPING', 'PAUSED'],
  CANCELLED: ['CANCELLING'],
  SUCCESS: ['RUNNING'],
  ERROR: ['RUNNING'],
}

/** One execution of a workflow. */
export interface RunRecord {
  readonly id: number
  readonly workflowId: number
  readonly workflow: string
  readonly messageId: number
  readonly status: RunStatus
  readonly input: unknown
  readonly output: unknown
  readonly error: unknown
  readonly idempotencyKey: string | null
  /** When a SLEEPING or PAUSED run wakes up. */
  readonly wakeAt: Date | null
  /** Past this instant the run ends ERROR with a `TimeoutError` (null: no deadline). */
  readonly deadline: Date | null
  /** The workflow version the run was started for (`defineWorkflow({ version })`, default 1). */
  readonly version: number
  /** The run that started this one with `ctx.startChild` (null: not a child run). */
  readonly parentId: number | null
  /** The parent's step that started this run (`child:<workflow>`, `#2`… when repeated); null when no child. */
  readonly parentStep: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly startedAt: Date | null
  readonly completedAt: Date | null
}

/** Step statuses. */
export const STEP_STATUSES = ['RUNNING', 'SUCCESS', 'ERROR'] as const
/** A step's status. */
export type StepStatus = (typeof STEP_STATUSES)[number]

/** An event sent into a run (`sendEvent`), consumed by exactly one `waitForEvent` of its name. */
export interface EventRecord {
  readonly id: number
  readonly runId: number
  readonly name: string
  readonly payload: unknown
  readonly idempotencyKey: string | null
  readonly createdAt: Date
  /** When a wait took it; null while it is pending. */
  readonly consumedAt: Date | null
  /** The key of the wait step that took it. */
  readonly consumedBy: string | null
}

/** A memoised step of a run, keyed by `(runId, stepKey)`. */
export interface StepRecord {
  readonly id: number
  readonly runId: number
  readonly stepKey: string
  readonly status: StepStatus
  readonly output: unknown
  readonly error: unknown
  /** Failed attempts so far. */
  readonly retryCount: number
  /** When a failed step may run again; null when it may not (exhausted) or did not fail. */
  readonly retryAt: Date | null
  readonly createdAt: Date
  readonly startedAt: Date | null
  readonly completedAt: Date | null
}
