/**
 * Every error pgqrs throws is a {@link PgqrsError} with a stable `code`. Messages say what was wrong
 * and what is allowed; the original error, if any, is kept as `cause`.
 */

/** Stable error codes. A released code never changes meaning. */
export const PGQRS_ERROR_CODES = [
  'CONFIG',
  'CONNECTION',
  'SCHEMA_NOT_INSTALLED',
  'SCHEMA_VERSION',
  'MIGRATION',
  'VALIDATION',
  'NOT_FOUND',
  'QUEUE_NOT_FOUND',
  'WORKFLOW_NOT_FOUND',
  'CONFLICT',
  'QUEUE_ALREADY_EXISTS',
  'WORKER_ACTIVE',
  'LEASE_LOST',
  'WORKER_STOPPED',
  'INVALID_STATE_TRANSITION',
  'STORE',
  'TIMEOUT',
  'TRANSIENT_STEP',
  'NON_RETRYABLE',
  'PAUSED',
  'CANCELLED',
  'EXECUTION_FAILED',
  'SUSPENSION_SWALLOWED',
  'NON_DETERMINISM',
  'CHILD_FAILED',
] as const

/** Union of every pgqrs error code. */
export type PgqrsErrorCode = (typeof PGQRS_ERROR_CODES)[number]

const CODE_SET: ReadonlySet<string> = new Set(PGQRS_ERROR_CODES)

/** True when `value` is one of {@link PGQRS_ERROR_CODES}. */
export function isPgqrsErrorCode(value: unknown): value is PgqrsErrorCode {
  return typeof value === 'string' && CODE_SET.has(value)
}

/** Base class of every pgqrs error. */
export class PgqrsError extends Error {
  override readonly name: string = 'PgqrsError'
  readonly code: PgqrsErrorCode

  constructor(code: PgqrsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }

  /** True for any pgqrs error, even one from a duplicate copy of the package where `instanceof` fails. */
  static is(value: unknown): value is PgqrsError {
    return value instanceof Error && 'code' in value && isPgqrsErrorCode(value.code)
  }
}

/** A configuration value or DSN is wrong, or a store package is missing. */
export class ConfigError extends PgqrsError {
  override readonly name = 'ConfigError'
  readonly field: string
  constructor(field: string, message: string, options?: ErrorOptions) {
    super('CONFIG', message, options)
    this.field = field
  }
  /** True when `value` is a ConfigError (also across package copies). */
  static override is(value: unknown): value is ConfigError {
    return PgqrsError.is(value) && value.code === 'CONFIG'
  }
}

/** The database could not be reached (within `connectTimeoutMs`) or the connection broke. */
export class ConnectionError extends PgqrsError {
  override readonly name = 'ConnectionError'
  readonly backend: string
  constructor(backend: string, message: string, options?: ErrorOptions) {
    super('CONNECTION', message, options)
    this.backend = backend
  }
  /** True when `value` is a ConnectionError. */
  static override is(value: unknown): value is ConnectionError {
    return PgqrsError.is(value) && value.code === 'CONNECTION'
  }
}

/** An operation ran before `install()` created the pgqrs tables. */
export class SchemaNotInstalledError extends PgqrsError {
  override readonly name = 'SchemaNotInstalledError'
  readonly schema: string
  constructor(schema: string, options?: ErrorOptions) {
    super(
      'SCHEMA_NOT_INSTALLED',
      `pgqrs is not installed in ${schema}: run \`await admin(store).install()\` or \`pgqrs install\` first`,
      options,
    )
    this.schema = schema
  }
  /** True when `value` is a SchemaNotInstalledError. */
  static override is(value: unknown): value is SchemaNotInstalledError {
    return PgqrsError.is(value) && value.code === 'SCHEMA_NOT_INSTALLED'
  }
}

/**
 * The installed schema is not the one this code was written for: `older` (run install with this
 * version: `admin(store).install()` or `pgqrs install`) or `newer` (another process installed a newer
 * pgqrs; upgrade this one). Workers refuse to start then, so that no code runs against tables it does
 * not know.
 */
export class SchemaVersionError extends PgqrsError {
  override readonly name = 'SchemaVersionError'
  /** `older`: the database lacks migrations this code needs; `newer`: it has migrations this code does not know. */
  readonly direction: 'older' | 'newer'
  /** The newest migration this code knows. */
  readonly expected: string
  /** The newest migration applied to the database. */
  readonly installed: string | null
  constructor(
    direction: 'older' | 'newer',
    expected: string,
    installed: string | null,
    detail: readonly string[],
  ) {
    super(
      'SCHEMA_VERSION',
      direction === 'older'
        ? `The pgqrs schema is older than this code expects (installed ${installed ?? 'nothing'}, expected ${expected}; missing ${detail.join(', ')}): run \`await admin(store).install()\` or \`pgqrs install\` with this version first`
        : `The pgqrs schema is newer than this code knows (installed ${installed}, this code knows up to ${expected}; unknown ${detail.join(', ')}): upgrade pgqrs in this process, or roll the schema back`,
    )
    this.direction = direction
    this.expected = expected
    this.installed = installed
  }
  /** True when `value` is a SchemaVersionError. */
  static override is(value: unknown): value is SchemaVersionError {
    return PgqrsError.is(value) && value.code === 'SCHEMA_VERSION'
  }
}

/** A migration failed; nothing of it was applied. */
export class MigrationError extends PgqrsError {
  override readonly name = 'MigrationError'
  readonly migration: string | undefined
  constructor(message: string, migration?: string, options?: ErrorOptions) {
    super('MIGRATION', message, options)
    this.migration = migration
  }
  /** True when `value` is a MigrationError. */
  static override is(value: unknown): value is MigrationError {
    return PgqrsError.is(value) && value.code === 'MIGRATION'
  }
}

/** Input was rejected before anything was written. */
export class ValidationError extends PgqrsError {
  override readonly name = 'ValidationError'
  /** The option or payload path that was wrong, e.g. `payload.items[3].name` or `batchSize`. */
  readonly field: string
  /** What was given (abbreviated for large values). */
  readonly value: unknown
  /** What is allowed, in words. */
  readonly allowed: string
  constructor(field: string, value: unknown, allowed: string, message?: string) {
    super('VALIDATION', message ?? `Invalid ${field}: ${allowed}`)
    this.field = field
    this.value = value
    this.allowed = allowed
  }
  /** True when `value` is a ValidationError. */
  static override is(value: unknown): value is ValidationError {
    return PgqrsError.is(value) && value.code === 'VALIDATION'
  }
}

/** Something looked up by name or id does not exist. */
export class NotFoundError extends PgqrsError {
  override readonly name: string = 'NotFoundError'
  readonly entity: string
  readonly id: string | number
  constructor(
    entity: string,
    id: string | number,
    message?: string,
    code: PgqrsErrorCode = 'NOT_FOUND',
  ) {
    super(code, message ?? `${entity} ${JSON.stringify(id)} not found`)
    this.entity = entity
    this.id = id
  }
  /** True for any not-found error, including {@link QueueNotFoundError}. */
  static override is(value: unknown): value is NotFoundError {
    return (
      PgqrsError.is(value) &&
      (value.code === 'NOT_FOUND' ||
        value.code === 'QUEUE_NOT_FOUND' ||
        value.code === 'WORKFLOW_NOT_FOUND')
    )
  }
}

/** The queue does not exist: create it with `store.queue(name)` or `admin.createQueue(name)`. */
export class QueueNotFoundError extends NotFoundError {
  override readonly name = 'QueueNotFoundError'
  constructor(queue: string) {
    super(
      'queue',
      queue,
      `Queue "${queue}" does not exist: create it first with store.queue("${queue}") or admin(store).createQueue("${queue}")`,
      'QUEUE_NOT_FOUND',
    )
  }
  /** True when `value` is a QueueNotFoundError. */
  static override is(value: unknown): value is QueueNotFoundError {
    return PgqrsError.is(value) && value.code === 'QUEUE_NOT_FOUND'
  }
}

/** The workflow is not defined in this store. */
export class WorkflowNotFoundError extends NotFoundError {
  override readonly name = 'WorkflowNotFoundError'
  constructor(workflow: string) {
    super(
      'workflow',
      workflow,
      `Workflow "${workflow}" does not exist: create it first with workflow().name("${workflow}").store(store).create()`,
      'WORKFLOW_NOT_FOUND',
    )
  }
  /** True when `value` is a WorkflowNotFoundError. */
  static override is(value: unknown): value is WorkflowNotFoundError {
    return PgqrsError.is(value) && value.code === 'WORKFLOW_NOT_FOUND'
  }
}

/** A unique key is already taken. */
export class ConflictError extends PgqrsError {
  override readonly name: string = 'ConflictError'
  readonly entity: string
  readonly key: string
  constructor(
    entity: string,
    key: string,
    message?: string,
    options?: ErrorOptions,
    code: PgqrsErrorCode = 'CONFLICT',
  ) {
    super(code, message ?? `${entity} ${JSON.stringify(key)} already exists`, options)
    this.entity = entity
    this.key = key
  }
  /** True for any conflict error, including {@link QueueAlreadyExistsError}. */
  static override is(value: unknown): value is ConflictError {
    return (
      PgqrsError.is(value) &&
      (value.code === 'CONFLICT' ||
        value.code === 'QUEUE_ALREADY_EXISTS' ||
        value.code === 'WORKER_ACTIVE')
    )
  }
}

/** `createQueue` is strict: the queue exists already (use `store.queue(name)` to ensure instead). */
export class QueueAlreadyExistsError extends ConflictError {
  override readonly name = 'QueueAlreadyExistsError'
  constructor(queue: string, options?: ErrorOptions) {
    super(
      'queue',
      queue,
      `Queue "${queue}" already exists: use store.queue("${queue}") to get-or-create instead`,
      options,
      'QUEUE_ALREADY_EXISTS',
    )
  }
  /** True when `value` is a QueueAlreadyExistsError. */
  static override is(value: unknown): value is QueueAlreadyExistsError {
    return PgqrsError.is(value) && value.code === 'QUEUE_ALREADY_EXISTS'
  }
}

/** A worker name is registered by a live (not stopped) worker. */
export class WorkerActiveError extends ConflictError {
  override readonly name = 'WorkerActiveError'
  readonly status: string
  constructor(workerName: string, status: string, detail?: string) {
    super(
      'worker',
      workerName,
      detail !== undefined
        ? `Worker "${workerName}" is ${status}: ${detail}`
        : status === 'suspended'
          ? `Worker "${workerName}" is suspended: resume it, or shut it down before registering the name again`
          : `Worker "${workerName}" is already active (status ${status}): a name can be reused only after the worker stopped (when its process is gone, \`pgqrs workers reclaim ${workerName}\` frees it)`,
      undefined,
      'WORKER_ACTIVE',
    )
    this.status = status
  }
  /** True when `value` is a WorkerActiveError. */
  static override is(value: unknown): value is WorkerActiveError {
    return PgqrsError.is(value) && value.code === 'WORKER_ACTIVE'
  }
}

/** The caller's lease on a message (or run) was taken over; nothing was changed. */
export class LeaseLostError extends PgqrsError {
  override readonly name = 'LeaseLostError'
  readonly messageId: number
  constructor(messageId: number, operation = 'operation') {
    super(
      'LEASE_LOST',
      `Lease on message ${messageId} is no longer held (it expired and was taken over, or the message was settled): ${operation} refused`,
    )
    this.messageId = messageId
  }
  /** True when `value` is a LeaseLostError. */
  static override is(value: unknown): value is LeaseLostError {
    return PgqrsError.is(value) && value.code === 'LEASE_LOST'
  }
}

/**
 * The worker stopped while a handler ran: the reason of `ctx.signal` once the stop's grace period
 * is over (the message is released, to be delivered again).
 */
export class WorkerStoppedError extends PgqrsError {
  override readonly name = 'WorkerStoppedError'
  constructor(message = 'the worker stopped: the message was released to be delivered again') {
    super('WORKER_STOPPED', message)
  }
  /** True when `value` is a WorkerStoppedError. */
  static override is(value: unknown): value is WorkerStoppedError {
    return PgqrsError.is(value) && value.code === 'WORKER_STOPPED'
  }
}

/** A worker or run status change that the transition table does not allow. */
export class InvalidStateTransitionError extends PgqrsError {
  override readonly name = 'InvalidStateTransitionError'
  readonly entity: string
  readonly from: string
  readonly to: string
  constructor(entity: string, from: string, to: string, allowedFrom: readonly string[]) {
    super(
      'INVALID_STATE_TRANSITION',
      `Cannot move ${entity} from ${from} to ${to}: allowed only from ${allowedFrom.join(', ') || 'no state'}`,
    )
    this.entity = entity
    this.from = from
    this.to = to
  }
  /** True when `value` is an InvalidStateTransitionError. */
  static override is(value: unknown): value is InvalidStateTransitionError {
    return PgqrsError.is(value) && value.code === 'INVALID_STATE_TRANSITION'
  }
}

/** A database error that has no more specific pgqrs class; the driver error is the `cause`. */
export class StoreError extends PgqrsError {
  override readonly name = 'StoreError'
  readonly backend: string
  readonly operation: string
  constructor(backend: string, operation: string, message: string, options?: ErrorOptions) {
    super('STORE', `${backend} store: ${operation} failed: ${message}`, options)
    this.backend = backend
    this.operation = operation
  }
  /** True when `value` is a StoreError. */
  static override is(value: unknown): value is StoreError {
    return PgqrsError.is(value) && value.code === 'STORE'
  }
}

/** An operation did not finish within its time limit. */
export class TimeoutError extends PgqrsError {
  override readonly name = 'TimeoutError'
  readonly timeoutMs: number
  constructor(operation: string, timeoutMs: number) {
    super('TIMEOUT', `${operation} did not finish within ${timeoutMs} ms`)
    this.timeoutMs = timeoutMs
  }
  /** True when `value` is a TimeoutError. */
  static override is(value: unknown): value is TimeoutError {
    return PgqrsError.is(value) && value.code === 'TIMEOUT'
  }
}

/** Normalises any thrown value to an `Error` (strings and objects are wrapped). */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value
  if (typeof value === 'string') return new Error(value)
  try {
    return new Error(JSON.stringify(value) ?? String(value))
  } catch {
    return new Error(String(value))
  }
}
