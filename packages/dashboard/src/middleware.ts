import type { MiddlewareHandler } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import type { DashboardConfig } from './dashboard-config.js'
import type { DashboardEnv } from './routes/context.js'
import {
  bearerValid,
  COOKIES,
  csrfToken,
  csrfValid,
  newCsrfCookie,
  SECURITY_HEADERS,
  sessionValid,
} from './security.js'

type Middleware = MiddlewareHandler<DashboardEnv>

/** Paths (under the base) that need no login: the login form and the static files. */
function isPublic(config: DashboardConfig, path: string): boolean {
  const rest = path.slice(config.basePath.length)
  return rest === '/login' || rest.startsWith('/assets/')
}

/** Security headers on every response (static files keep their own cache header). */
export function securityHeaders(): Middleware {
  return async (c, next) => {
    await next()
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) {
      if (!c.res.headers.has(k)) c.res.headers.set(k, v)
    }
  }
}

/** The cookie path: the base path, so two dashboards on one host keep apart. */
export function cookiePath(config: DashboardConfig): string {
  return config.basePath || '/'
}

/** Cookies are Secure when the request came over https. */
export function cookieSecure(url: string): boolean {
  return url.startsWith('https:')
}

/**
 * With a token: every request but the login form and the static files needs `Authorization:
 * Bearer <token>` or a valid session cookie. A page view without one is sent to the login form; a
 * live refresh gets 401 with `HX-Redirect` to it; anything else gets 401.
 */
export function authenticate(config: DashboardConfig): Middleware {
  return async (c, next) => {
    const token = config.token
    if (token === null || isPublic(config, c.req.path)) return next()
    if (bearerValid(token, c.req.header('Authorization'))) return next()
    if (sessionValid(config.secret, token, getCookie(c, COOKIES.session))) return next()
    const url = new URL(c.req.url)
    const login = `${config.basePath}/login?next=${encodeURIComponent(url.pathname + url.search)}`
    if (c.req.method === 'GET' && c.req.header('HX-Request') !== 'true')
      return c.redirect(login, 303)
    c.header('WWW-Authenticate', 'Bearer realm="pgqrs dashboard"')
    if (c.req.header('HX-Request') === 'true') c.header('HX-Redirect', login)
    return c.text('401 Unauthorized: log in, or send Authorization: Bearer <token>', 401)
  }
}

/**
 * Read-only mode refuses every POST (403) except logging in and out, before its body is read.
 */
export function readOnlyGuard(config: DashboardConfig): Middleware {
  return async (c, next) => {
    if (!config.readOnly || c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    const rest = c.req.path.slice(config.basePath.length)
    if (c.req.method === 'POST' && (rest === '/login' || rest === '/logout')) return next()
    return c.text('403 Forbidden: this dashboard is read-only', 403)
  }
}

/**
 * CSRF, signed double submit: every browser gets a random HttpOnly, SameSite=Strict cookie; pages
 * carry its HMAC (a hidden `_csrf` field in forms, the `X-CSRF-Token` header from htmx), and every
 * POST must present it. Cross-site POSTs (`Sec-Fetch-Site: cross-site`) are refused outright.
 * Only GET, HEAD and POST are served.
 */
export function csrf(config: DashboardConfig): Middleware {
  return async (c, next) => {
    const method = c.req.method
    const safe = method === 'GET' || method === 'HEAD'
    let cookie = getCookie(c, COOKIES.csrf)
    // a new cookie only on page views: a refused (e.g. cross-site) POST must not replace the
    // browser's cookie, or a hostile site could invalidate the tokens of the open pages
    if (safe && (!cookie || !/^[A-Za-z0-9_-]{32}$/.test(cookie))) {
      cookie = newCsrfCookie()
      setCookie(c, COOKIES.csrf, cookie, {
        path: cookiePath(config),
        httpOnly: true,
        sameSite: 'Strict',
        secure: cookieSecure(c.req.url),
      })
    }
    c.set('csrf', cookie ? csrfToken(config.secret, cookie) : '')
    if (safe) return next()
    if (method !== 'POST')
      return c.text('405 Method Not Allowed', 405, { Allow: 'GET, HEAD, POST' })
    if (c.req.header('Sec-Fetch-Site') === 'cross-site') {
      return c.text('403 Forbidden: cross-site request', 403)
    }
    let token = c.req.header('X-CSRF-Token')
    if (!token) {
      const type = c.req.header('Content-Type') ?? ''
      if (
        type.startsWith('application/x-www-form-urlencoded') ||
        type.startsWith('multipart/form-data')
      ) {
        const field = (await c.req.parseBody())._csrf
        token = typeof field === 'string' ? field : undefined
      }
    }
    if (!csrfValid(config.secret, getCookie(c, COOKIES.csrf), token)) {
      return c.text(
        '403 Forbidden: missing or invalid CSRF token (reload the page and try again)',
        403,
      )
    }
    return next()
  }
}
