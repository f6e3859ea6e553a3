import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** Cookie names. Both are HttpOnly, SameSite=Strict and scoped to the dashboard's path. */
export const COOKIES = { session: 'pgqrs_session', csrf: 'pgqrs_csrf' } as const

/** How long a login lasts. */
export const SESSION_MS = 12 * 3_600_000

/** HMAC-SHA256 of `value` under `secret`, base64url. */
export function sign(secret: Buffer, value: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url')
}

/** Compares two strings in constant time (their SHA-256 digests, so the lengths leak nothing). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest()
  const db = createHash('sha256').update(b).digest()
  return timingSafeEqual(da, db) && a === b
}

/** A new random CSRF cookie value. */
export function newCsrfCookie(): string {
  return randomBytes(24).toString('base64url')
}

/**
 * The CSRF token forms and htmx send for the CSRF cookie `cookie` (signed double submit): an
 * attacker who cannot read the page cannot compute it, and one who plants a cookie of their own
 * cannot either without the secret.
 */
export function csrfToken(secret: Buffer, cookie: string): string {
  return sign(secret, `csrf:${cookie}`)
}

/** True when `token` is the CSRF token of `cookie`. */
export function csrfValid(
  secret: Buffer,
  cookie: string | undefined,
  token: string | undefined,
): boolean {
  if (!cookie || !token) return false
  return safeEqual(csrfToken(secret, cookie), token)
}

/** The session cookie value for a login with `token`, valid until `expires` (epoch ms). */
export function sessionValue(secret: Buffer, token: string, expires: number): string {
  const tokenHash = createHash('sha256').update(token).digest('base64url')
  return `${expires}.${sign(secret, `session:${expires}:${tokenHash}`)}`
}

/** True when `value` is an unexpired session cookie for `token`. */
export function sessionValid(secret: Buffer, token: string, value: string | undefined): boolean {
  if (!value) return false
  const dot = value.indexOf('.')
  const expires = Number(value.slice(0, dot))
  if (dot < 1 || !Number.isSafeInteger(expires) || expires <= Date.now()) return false
  return safeEqual(sessionValue(secret, token, expires), value)
}

/** True when the `Authorization` header is `Bearer <token>`. */
export function bearerValid(token: string, header: string | undefined): boolean {
  const m = /^Bearer\s+(.+?)\s*$/i.exec(header ?? '')
  return m !== null && safeEqual(m[1]!, token)
}

/**
 * Response headers of every page: a Content-Security-Policy that allows only the dashboard's own
 * script and stylesheet (no inline script or style, no eval), no framing, no referrer, no caching.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-store',
}

/**
 * `text` with credentials cut out: a URL's password (`postgres://u:secret@h` → `postgres://u:***@h`)
 * and `authToken`/`password`/`token` query parameters. Applied to every error shown on a page.
 */
export function redact(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^@\s/]*@/gi, '$1:***@')
    .replace(/([?&](?:authToken|auth_token|password|token)=)[^&\s]*/gi, '$1***')
}

/** A same-dashboard path to go back to after an action, or `fallback` (no open redirects). */
export function safeBack(basePath: string, back: unknown, fallback: string): string {
  if (typeof back !== 'string' || back === '') return fallback
  const prefix = `${basePath}/`
  if (!(back === basePath || back === prefix || back.startsWith(prefix))) return fallback
  if (back.startsWith('//') || back.includes('\\') || /[\r\n]/.test(back)) return fallback
  return back
}
