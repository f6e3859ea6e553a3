/** Driver error codes, read the same way for every family. @internal */

const SQLITE_RAW_CODES: Record<number, string> = {
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  517: 'SQLITE_BUSY_SNAPSHOT',
  1555: 'SQLITE_CONSTRAINT_PRIMARYKEY',
  2067: 'SQLITE_CONSTRAINT_UNIQUE',
}

/** What a family's error translation needs to know about where an error came from. @internal */
export interface ErrorContext {
  readonly backend: string
  readonly operation: string
}

/**
 * The most specific code of a driver error. libSQL wraps the extended SQLite code: its error says
 * `SQLITE_CONSTRAINT` and its `cause` (or `rawCode`) says `SQLITE_CONSTRAINT_UNIQUE`. @internal
 */
export function codeOf(error: unknown): string {
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
