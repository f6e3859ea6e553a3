/**
 * Secrets never leave pgqrs in an error, a log line or `inspect` output: connection strings hold
 * passwords and libSQL URLs hold auth tokens. These helpers cut them out of text and rebuild error
 * chains without the driver's objects (which keep the raw input, e.g. Node's URL error's `input`).
 */

const MASK = '***'

/** `url` with its password and any `authToken`/`password`/`token` query parameter masked. */
export function redactUrl(url: string): string {
  return url
    .replace(/(\/\/[^/?#@:]*:)[^@/?#]*@/g, `$1${MASK}@`)
    .replace(/([?&](?:authToken|auth_token|password|token)=)[^&#\s]*/gi, `$1${MASK}`)
}

/** `text` with every secret in `secrets` (and every URL password or token) masked. */
export function redact(text: string, secrets: readonly (string | undefined | null)[] = []): string {
  let out = redactUrl(text)
  for (const s of secrets) {
    if (typeof s === 'string' && s.length >= 3) out = out.split(s).join(MASK)
  }
  return out
}

/** The secrets a DSN or URL holds: its password, and its `authToken`/`password`/`token` parameters. */
export function secretsOf(url: string | undefined | null): string[] {
  if (typeof url !== 'string') return []
  const found: string[] = []
  try {
    const u = new URL(url)
    if (u.password) found.push(decodeURIComponent(u.password), u.password)
    for (const key of ['authToken', 'auth_token', 'password', 'token']) {
      const v = u.searchParams.get(key)
      if (v) found.push(v)
    }
  } catch {
    // not a URL: nothing to find
  }
  return found
}

/**
 * A copy of an error chain that carries no secret: for each error, its name, its `code` and its
 * message with `secrets` masked, and the same for its `cause`. The original objects (which may
 * hold the raw DSN, a client, a socket) are dropped.
 */
export function safeCause(
  error: unknown,
  secrets: readonly (string | undefined | null)[] = [],
): Error {
  const seen = new Set<unknown>()
  const copy = (e: unknown, depth: number): Error => {
    const text =
      e instanceof Error ? e.message : typeof e === 'string' ? e : String((e as object) ?? e)
    const out = new Error(redact(text, secrets))
    if (e instanceof Error) {
      out.name = e.name
      const code = (e as { code?: unknown }).code
      if (typeof code === 'string' || typeof code === 'number')
        (out as Error & { code?: unknown }).code = code
      const cause = (e as { cause?: unknown }).cause
      if (cause !== undefined && !seen.has(cause) && depth < 5) {
        seen.add(cause)
        ;(out as Error & { cause?: unknown }).cause = copy(cause, depth + 1)
      }
    }
    out.stack = `${out.name}: ${out.message}`
    return out
  }
  return copy(error, 0)
}

/**
 * `error` itself with `secrets` (and URL passwords and tokens) masked in its message and stack, and
 * its cause chain replaced by a {@link safeCause} copy. For errors pgqrs did not build itself (a
 * driver's), which may quote what they were given.
 */
export function scrubError(
  error: unknown,
  secrets: readonly (string | undefined | null)[] = [],
): unknown {
  if (!(error instanceof Error)) return safeCause(error, secrets)
  const message = redact(error.message, secrets)
  if (message !== error.message) {
    Object.defineProperty(error, 'message', { value: message, writable: true, configurable: true })
  }
  if (typeof error.stack === 'string') error.stack = redact(error.stack, secrets)
  if (error.cause !== undefined) {
    Object.defineProperty(error, 'cause', {
      value: safeCause(error.cause, secrets),
      writable: true,
      configurable: true,
    })
  }
  return error
}
