import type { Hono } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { ASSETS } from '../assets.js'
import { cookiePath, cookieSecure } from '../middleware.js'
import { COOKIES, SESSION_MS, safeBack, safeEqual, sessionValue } from '../security.js'
import { type DashboardContext, type DashboardEnv, html, type RouteDeps } from './context.js'

/** The login form: nothing about the store is shown before the token is given. */
function LoginPage(props: { deps: RouteDeps; csrf: string; next: string; failed: boolean }) {
  const base = props.deps.config.basePath
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`Log in · ${props.deps.config.title}`}</title>
        <link rel="stylesheet" href={`${base}${ASSETS.css.path}`} />
        <link rel="icon" href={`${base}${ASSETS.icon.path}`} type="image/svg+xml" />
      </head>
      <body>
        <main class="login panel">
          <h1>{props.deps.config.title}</h1>
          {props.failed ? (
            <p class="flash flash-error" role="alert">
              Wrong token.
            </p>
          ) : null}
          <form method="post" action={`${base}/login`}>
            <input type="hidden" name="_csrf" value={props.csrf} />
            <input type="hidden" name="next" value={props.next} />
            <label>
              Dashboard token
              <input
                type="password"
                name="token"
                autocomplete="current-password"
                required
                autofocus
              />
            </label>
            <button type="submit">Log in</button>
          </form>
        </main>
      </body>
    </html>
  )
}

function nextParam(deps: RouteDeps, raw: unknown): string {
  return safeBack(deps.config.basePath, raw, `${deps.config.basePath}/`)
}

function loginForm(c: DashboardContext, deps: RouteDeps, next: string, failed: boolean): Response {
  return html(
    c,
    <LoginPage deps={deps} csrf={c.get('csrf')} next={next} failed={failed} />,
    failed ? 401 : 200,
  )
}

/** GET/POST /login and POST /logout (only meaningful with a token). */
export function registerLogin(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  const { config } = deps
  app.get('/login', (c) => {
    const next = nextParam(deps, c.req.query('next'))
    if (config.token === null) return c.redirect(next, 303)
    return loginForm(c, deps, next, false)
  })
  app.post('/login', async (c) => {
    const body = await c.req.parseBody()
    const next = nextParam(deps, body.next)
    if (config.token === null) return c.redirect(next, 303)
    const given = typeof body.token === 'string' ? body.token : ''
    if (!safeEqual(given, config.token)) return loginForm(c, deps, next, true)
    const expires = Date.now() + SESSION_MS
    setCookie(c, COOKIES.session, sessionValue(config.secret, config.token, expires), {
      path: cookiePath(config),
      httpOnly: true,
      sameSite: 'Strict',
      secure: cookieSecure(c.req.url),
      maxAge: Math.floor(SESSION_MS / 1000),
    })
    return c.redirect(next, 303)
  })
  app.post('/logout', (c) => {
    deleteCookie(c, COOKIES.session, { path: cookiePath(config) })
    return c.redirect(`${config.basePath}/login`, 303)
  })
}
