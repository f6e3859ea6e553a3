import { PgqrsError } from '@pgqrs/core'

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
  if (!Number.isInteger(ms) || ms < 0)
    throw new RangeError(`pauseError: ms must be an integer >= 0, got ${ms}`)
  return new PausedError(ms, message)
}

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
 * Internal: the delivery ends here without settling the run; the message was released to come
 * back at `until` (a step retry, a pause or a sleep). @internal
 */
export class Suspend {
  /** Epoch ms when the message should come back. */
  readonly until: number
  /** The run's status meanwhile. */
  readonly status: 'RUNNING' | 'PAUSED' | 'SLEEPING'
  /** Stored as the run's error while PAUSED. */
  readonly info: unknown
  constructor(until: number, status: 'RUNNING' | 'PAUSED' | 'SLEEPING', info?: unknown) {
    this.until = until
    this.status = status
    this.info = info
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

/** Serialises any thrown value to the stored error shape. */
export function serialiseError(e: unknown): StoredError {
  if (TransientStepError.is(e)) {
    return {
      name: e.name,
      message: e.message,
      code: e.stepCode,
      transient: true,
      ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }),
    }
  }
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code
    return {
      name: e.name,
      message: e.message,
      ...(typeof code === 'string' ? { code } : {}),
      transient: false,
      ...(e.stack ? { stack: e.stack.split('\n').slice(0, 6).join('\n') } : {}),
    }
  }
  let message: string
  try {
    message = typeof e === 'string' ? e : (JSON.stringify(e) ?? String(e))
  } catch {
    message = String(e)
  }
  return { name: 'Error', message, transient: false }
}
