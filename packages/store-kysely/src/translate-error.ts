import {
  ConflictError,
  ConnectionError,
  PgqrsError,
  SchemaNotInstalledError,
  StoreError,
  toError,
} from '@pgqrs/core'
import type { Family } from './dialect.js'

/** What {@link translateError} needs to know about where an error came from. @internal */
export interface ErrorContext {
  readonly backend: string
  readonly family: Family
  readonly operation: string
  readonly schema: string
  /** Asked only when the driver's code cannot tell a missing table from other SQL errors. */
  readonly isInstalled: () => Promise<boolean>
}

const PG_CONNECTION_CODES = new Set([
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

const SQLITE_RAW_CODES: Record<number, string> = {
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  517: 'SQLITE_BUSY_SNAPSHOT',
  1555: 'SQLITE_CONSTRAINT_PRIMARYKEY',
  2067: 'SQLITE_CONSTRAINT_UNIQUE',
}

/**
 * The most specific code of a driver error. libSQL wraps the extended SQLite code: its error says
 * `SQLITE_CONSTRAINT` and its `cause` (or `rawCode`) says `SQLITE_CONSTRAINT_UNIQUE`.
 */
function codeOf(error: unknown): string {
  const e = error as { code?: unknown; rawCode?: unknown; cause?: { code?: unknown } } | null
  const code = typeof e?.code === 'string' ? e.code : ''
  const inner = typeof e?.cause?.code === 'string' ? e.cause.code : ''
  if (code.startsWith('SQLITE_') && inner.startsWith(code)) return inner
  const raw = typeof e?.rawCode === 'number' ? SQLITE_RAW_CODES[e.rawCode] : undefined
  if (code.startsWith('SQLITE_') && raw?.startsWith(code)) return raw
  return code
}

/** True for SQLite's "database is locked" family of codes (another connection holds the lock). @internal */
export function isBusy(error: unknown): boolean {
  const code = codeOf(error)
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')
}

/**
 * Maps a driver error to a pgqrs error by its code, never by its message text: unique violations
 * become `ConflictError`, a missing schema or table `SchemaNotInstalledError`, network and
 * authentication failures `ConnectionError`, anything else `StoreError`. The driver error is kept
 * as `cause`. pgqrs errors pass through unchanged. @internal
 */
export async function translateError(error: unknown, ctx: ErrorContext): Promise<Error> {
  if (PgqrsError.is(error)) return error
  const err = toError(error)
  const code = codeOf(error)
  const where = `${ctx.operation} (${code || 'no code'})`
  if (ctx.family === 'postgres') {
    if (code === '42P01' || code === '3F000')
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
    if (PG_CONNECTION_CODES.has(code) || code.startsWith('08')) {
      return new ConnectionError(
        ctx.backend,
        `${ctx.backend} connection failed during ${where}: ${err.message}`,
        { cause: err },
      )
    }
    return new StoreError(ctx.backend, ctx.operation, `${err.message} [${code || 'no code'}]`, {
      cause: err,
    })
  }
  if (
    code.startsWith('SQLITE_CONSTRAINT_UNIQUE') ||
    code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY')
  ) {
    return new ConflictError('row', code, `${ctx.operation}: unique constraint violated`, {
      cause: err,
    })
  }
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_NOTADB') ||
    code === 'ENOTFOUND' ||
    code === 'ECONNREFUSED'
  ) {
    return new ConnectionError(
      ctx.backend,
      `${ctx.backend} database could not be opened during ${where}: ${err.message}`,
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
