import {
  ConflictError,
  ConnectionError,
  PgqrsError,
  SchemaNotInstalledError,
  StoreError,
  toError,
} from '@pgqrs/core'
import { codeOf, type ErrorContext, networkCode } from '../translate-error.js'

/**
 * Maps a SQLite or libSQL error to a pgqrs error by its code, never by its message text: unique
 * violations are `ConflictError`, a database that cannot be opened `ConnectionError`, a statement
 * on a database without the pgqrs tables `SchemaNotInstalledError` (asked with `isInstalled`, since
 * SQLite reports a missing table only as SQLITE_ERROR), anything else `StoreError`. The driver
 * error is kept as `cause`; pgqrs errors pass through. @internal
 */
export async function translateSqliteError(
  error: unknown,
  ctx: ErrorContext & { readonly isInstalled: () => Promise<boolean> },
): Promise<Error> {
  if (PgqrsError.is(error)) return error
  const err = toError(error)
  const code = codeOf(error)
  if (
    code.startsWith('SQLITE_CONSTRAINT_UNIQUE') ||
    code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY')
  ) {
    return new ConflictError('row', code, `${ctx.operation}: unique constraint violated`, {
      cause: err,
    })
  }
  const network = networkCode(error)
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_NOTADB') || network !== null) {
    return new ConnectionError(
      ctx.backend,
      `${ctx.backend} database could not be ${network === null ? 'opened' : 'reached'} during ${ctx.operation} (${network ?? code}): ${err.message}`,
      { cause: err },
    )
  }
  if ((code === 'SQLITE_ERROR' || code === '') && !(await ctx.isInstalled())) {
    return new SchemaNotInstalledError('this database', { cause: err })
  }
  return new StoreError(ctx.backend, ctx.operation, `${err.message} [${code || 'no code'}]`, {
    cause: err,
  })
}
