import {
  ConflictError,
  ConnectionError,
  PgqrsError,
  QueueNotFoundError,
  SchemaNotInstalledError,
  StoreError,
  toError,
} from '@pgqrs/core'
import { codeOf, type ErrorContext } from '../translate-error.js'

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '3D000', // invalid_catalog_name: the database does not exist
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
])

/**
 * Maps a pg error to a pgqrs error by its SQLSTATE, never by its message text: a missing schema or
 * table is `SchemaNotInstalledError`, a unique violation `ConflictError`, network and
 * authentication failures `ConnectionError`, the claim functions' P0002 `QueueNotFoundError`,
 * anything else `StoreError`. The driver error is kept as `cause`; pgqrs errors pass through.
 * @internal
 */
export function translatePostgresError(
  error: unknown,
  ctx: ErrorContext & { readonly schema: string; readonly queue?: string },
): Error {
  if (PgqrsError.is(error)) return error
  const err = toError(error)
  const code = codeOf(error)
  if (code === '42P01' || code === '3F000' || code === '42883')
    return new SchemaNotInstalledError(`schema "${ctx.schema}"`, { cause: err })
  if (code === '23505') {
    const constraint = String((error as { constraint?: unknown }).constraint ?? 'unique key')
    return new ConflictError(
      'row',
      constraint,
      `${ctx.operation}: unique constraint ${constraint} violated`,
      { cause: err },
    )
  }
  if (CONNECTION_CODES.has(code) || code.startsWith('08')) {
    return new ConnectionError(
      ctx.backend,
      `${ctx.backend} connection failed during ${ctx.operation} (${code}): ${err.message}`,
      { cause: err },
    )
  }
  return new StoreError(ctx.backend, ctx.operation, `${err.message} [${code || 'no code'}]`, {
    cause: err,
  })
}

/**
 * The multi-queue claim's P0002 error names the missing queue in its DETAIL. @internal
 */
export function rethrowMissingOneOf(queues: readonly string[]): (e: unknown) => never {
  return (e) => {
    const err = e as { code?: unknown; detail?: unknown } | null
    if (err?.code === 'P0002') {
      const name = typeof err.detail === 'string' ? err.detail : queues.join(', ')
      throw new QueueNotFoundError(name)
    }
    throw e
  }
}

/** The queue named in a claim function's P0002 error ("pgqrs: queue % does not exist"). @internal */
export function rethrowMissingQueue(queue: string): (e: unknown) => never {
  return (e) => {
    if ((e as { code?: unknown } | null)?.code === 'P0002') throw new QueueNotFoundError(queue)
    throw e
  }
}
