import { MAX_DELAY_MS, PgqrsError, storableText, ValidationError } from '@pgqrs/core'

/**
 * A step failure worth retrying: the step is retried after `retryAfterMs` (or the retry policy's
 * backoff) while retries are left. Its message is not redelivered in between.
 */
export class TransientStepError extends PgqrsError {
  override readonly name = 'TransientStepError'
  /** Your error code, e.g. `TIMEOUT`. */
  readonly stepCode: string
  readonly retryAfterMs: number | undefined
  constructor(
    code: string,
    message: string,
    options: { retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super('TRANSIENT_STEP', `${code}: ${message}`, { cause: options.cause })
    this.stepCode = code
    this.retryAfterMs = options.retryAfterMs
  }
  /** True when `value` is a TransientStepError. */
  static override is(value: unknown): value is TransientStepError {
    return PgqrsError.is(value) && value.code === 'TRANSIENT_STEP'
  }
}

/** A failure no retry can fix: the run ends in ERROR at once. */
export class NonRetryableError extends PgqrsError {
  override readonly name = 'NonRetryableError'
  constructor(message: string, options?: ErrorOptions) {
    super('NON_RETRYABLE', message, options)
  }
  /** True when `value` is a NonRetryableError. */
  static override is(value: unknown): value is NonRetryableError {
    return PgqrsError.is(value) && value.code === 'NON_RETRYABLE'
  }
}

/** Thrown (via {@link pauseError}) to pause a run: it is PAUSED and delivered again after `resumeAfterMs`. */
export class PausedError extends PgqrsError {
  override readonly name = 'PausedError'
  readonly resumeAfterMs: number
  constructor(resumeAfterMs: number, message: string) {
    super('PAUSED', message)
    this.resumeAfterMs = resumeAfterMs
  }
  /** True when `value` is a PausedError. */
  static override is(value: unknown): value is PausedError {
    return PgqrsError.is(value) && value.code === 'PAUSED'
  }
}

/** Pause the run for `ms` (e.g. waiting for an approval): `throw pauseError(60_000, 'waiting for approval')`. */
export function pauseError(ms: number, message: string): PausedError {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_WAIT_MS)
    throw new ValidationError('ms', ms, `an integer from 0 to ${MAX_WAIT_MS} (about 285 years)`)
  return new PausedError(ms, message)
}

/** The longest pause or sleep, in ms: `MAX_DELAY_MS` of `@pgqrs/core` (about 285 years). */
export const MAX_WAIT_MS = MAX_DELAY_MS

/** The run was cancelled. */
export class CancelledError extends PgqrsError {
  override readonly name = 'CancelledError'
  readonly runId: number
  constructor(runId: number) {
    super('CANCELLED', `Run ${runId} was cancelled`)
    this.runId = runId
  }
  /** True when `value` is a CancelledError. */
  static override is(value: unknown): value is CancelledError {
    return PgqrsError.is(value) && value.code === 'CANCELLED'
  }
}

/** `result()` of a run that ended in ERROR; `error` is the stored error. */
export class WorkflowFailedError extends PgqrsError {
  override readonly name = 'WorkflowFailedError'
  readonly runId: number
  readonly error: unknown
  constructor(runId: number, error: unknown) {
    const text =
      typeof error === 'object' && error !== null && 'message' in error
        ? String((error as { message: unknown }).message)
        : JSON.stringify(error)
    super('EXECUTION_FAILED', `Run ${runId} failed: ${text}`)
    this.runId = runId
    this.error = error
  }
  /** True when `value` is a WorkflowFailedError. */
  static override is(value: unknown): value is WorkflowFailedError {
    return PgqrsError.is(value) && value.code === 'EXECUTION_FAILED'
  }
}

/**
 * `child.result()` of a child run (`ctx.startChild`) that did not succeed: it ended ERROR (`error`
 * is its stored error: `{ name, message, … }`) or CANCELLED (`error` is null). Thrown in the
 * parent, where it is no step failure (no retry): uncaught, it ends the parent ERROR; a replay
 * throws it again.
 */
export class ChildWorkflowFailedError extends PgqrsError {
  override readonly name = 'ChildWorkflowFailedError'
  /** The child run. */
  readonly childRunId: number
  /** The child's workflow. */
  readonly workflow: string
  /** How the child ended. */
  readonly status: 'ERROR' | 'CANCELLED'
  /** The child's stored error (ERROR), null when it was cancelled. */
  readonly error: unknown
  constructor(childRunId: number, workflow: string, status: 'ERROR' | 'CANCELLED', error: unknown) {
    const text =
      status === 'CANCELLED'
        ? 'it was cancelled'
        : typeof error === 'object' && error !== null && 'message' in error
          ? `${String((error as { name?: unknown }).name ?? 'Error')}: ${String((error as { message: unknown }).message)}`
          : JSON.stringify(error)
    super(
      'CHILD_FAILED',
      `Child run ${childRunId} (workflow "${workflow}") ended ${status}: ${text}`,
    )
    this.childRunId = childRunId
    this.workflow = workflow
    this.status = status
    this.error = error
  }
  /** True when `value` is a ChildWorkflowFailedError. */
  static override is(value: unknown): value is ChildWorkflowFailedError {
    return PgqrsError.is(value) && value.code === 'CHILD_FAILED'
  }
}

/** Why the engine suspends a delivery: what {@link Suspend} means for the run. */
export type SuspendKind = 'retry' | 'sleep' | 'pause' | 'event' | 'child'

function describeKind(kind: SuspendKind): string {
  if (kind === 'retry') return 'a step retry'
  if (kind === 'event') return 'a wait for an event'
  if (kind === 'child') return 'a wait for a child run'
  return kind
}

/**
 * The engine's suspension of a delivery (a step retry, a sleep or a pause), thrown out of
 * `ctx.step`/`ctx.sleep`: the run's message is released until `until` and the body runs again then.
 * A body must let it pass: one that catches it and carries on ends in
 * {@link SuspensionSwallowedError}. Not a `PgqrsError`, so `PgqrsError.is(e)` handlers pass it on.
 * @internal
 */
export class Suspend extends Error {
  override readonly name = 'Suspend'
  /** Epoch ms when the message should come back. */
  readonly until: number
  /** The run's status meanwhile. */
  readonly status: 'RUNNING' | 'PAUSED' | 'SLEEPING'
  /** Stored as the run's error while PAUSED. */
  readonly info: unknown
  /** The step (or sleep) that suspended the run. */
  readonly step: string
  readonly kind: SuspendKind
  /** kind `event`: the event name the run waits for (a send wakes it before `until`). */
  readonly event: string | undefined
  /** kind `child`: the child run the run waits for (its end wakes the run before `until`). */
  readonly child: number | undefined
  constructor(
    until: number,
    status: 'RUNNING' | 'PAUSED' | 'SLEEPING',
    step: string,
    kind: SuspendKind,
    info?: unknown,
    event?: string,
    child?: number,
  ) {
    super(
      `pgqrs suspends this run at "${step}" (${describeKind(kind)}) until ${new Date(until).toISOString()}: rethrow this error, the engine resumes the run then`,
    )
    this.event = event
    this.child = child
    this.until = until
    this.status = status
    this.step = step
    this.kind = kind
    this.info = info
  }
}

/**
 * A workflow body caught the engine's suspension (a step retry, a sleep or a pause thrown by
 * `ctx.step`/`ctx.sleep`) and went on instead of letting it pass: the run ends in ERROR with this
 * error, naming the step, rather than SUCCESS with a step left unfinished.
 */
export class SuspensionSwallowedError extends PgqrsError {
  override readonly name = 'SuspensionSwallowedError'
  /** The step (or sleep) whose suspension was caught. */
  readonly step: string
  constructor(step: string, kind: SuspendKind, options?: ErrorOptions) {
    super(
      'SUSPENSION_SWALLOWED',
      `The workflow body caught the suspension of step "${step}" (${describeKind(kind)}) and went on: do not catch what ctx.step or ctx.sleep throws without rethrowing it (a try/catch around a step must rethrow errors it does not handle)`,
      options,
    )
    this.step = step
  }
  /** True when `value` is a SuspensionSwallowedError. */
  static override is(value: unknown): value is SuspensionSwallowedError {
    return PgqrsError.is(value) && value.code === 'SUSPENSION_SWALLOWED'
  }
}

/** The JSON stored as a step's or run's `error`. */
export interface StoredError {
  readonly name: string
  readonly message: string
  readonly code?: string
  readonly transient: boolean
  readonly retryAfterMs?: number
  readonly stack?: string
}

/** The longest stored error message and stack, in characters. */
const MAX_MESSAGE = 4_000
const MAX_STACK = 4_000

/**
 * Serialises any thrown value to the stored error shape, always storable: message and stack are
 * well-formed text without NUL, cut to a few thousand characters with a marker, whatever was thrown
 * (an Error, a string, an object that is no JSON, a value whose getters throw).
 */
export function serialiseError(e: unknown): StoredError {
  if (TransientStepError.is(e)) {
    return {
      name: e.name,
      message: storableText(e.message, MAX_MESSAGE),
      code: storableText(e.stepCode, 200),
      transient: true,
      ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }),
    }
  }
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code
    let stack: string | undefined
    try {
      stack = typeof e.stack === 'string' ? e.stack.split('\n').slice(0, 6).join('\n') : undefined
    } catch {
      stack = undefined
    }
    return {
      name: storableText(String(e.name), 200),
      message: storableText(String(e.message), MAX_MESSAGE),
      ...(typeof code === 'string' ? { code: storableText(code, 200) } : {}),
      transient: false,
      ...(stack ? { stack: storableText(stack, MAX_STACK) } : {}),
    }
  }
  let message: string
  try {
    message = typeof e === 'string' ? e : (JSON.stringify(e) ?? String(e))
  } catch {
    try {
      message = String(e)
    } catch {
      message = `a thrown ${typeof e}`
    }
  }
  return { name: 'Error', message: storableText(message, MAX_MESSAGE), transient: false }
}

/**
 * A replay asked for a step the stored history does not have next: the workflow code changed
 * under a running run. The run ends ERROR with this error rather than mixing results of two
 * versions of the code. Deploy such a change as a new version (`defineWorkflow({ version })`) or
 * guard it with `ctx.patched(id)` (docs/workflows.md).
 */
export class NonDeterminismError extends PgqrsError {
  override readonly name = 'NonDeterminismError'
  readonly runId: number
  /** The step the stored history has next. */
  readonly expected: string
  /** The step the code asked for. */
  readonly actual: string
  constructor(runId: number, expected: string, actual: string) {
    super(
      'NON_DETERMINISM',
      `Run ${runId} replayed step "${actual}" where its stored history has "${expected}" next: the workflow code changed under a running run; deploy the change as a new version (defineWorkflow({ version })) or guard it with ctx.patched(id)`,
    )
    this.runId = runId
    this.expected = expected
    this.actual = actual
  }
  /** True when `value` is a NonDeterminismError. */
  static override is(value: unknown): value is NonDeterminismError {
    return PgqrsError.is(value) && value.code === 'NON_DETERMINISM'
  }
}
