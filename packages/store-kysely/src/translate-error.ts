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

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
])

/**
 * The network error code somewhere in an error's cause chain (a remote libSQL database answers an
 * outage with "fetch failed", whose causes say ECONNREFUSED or an undici connect timeout), or null.
 * @internal
 */
export function networkCode(error: unknown): string | null {
  let e: unknown = error
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR_')))
      return code
    e = (e as { cause?: unknown }).cause
  }
  return null
}
