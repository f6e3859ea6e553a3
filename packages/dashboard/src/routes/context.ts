import type { Context } from 'hono'
import type { DashboardConfig } from '../dashboard-config.js'
import type { MetricsSampler } from '../sampler.js'
import type { Flash, ViewContext } from '../views/layout.js'

/** Hono variables set by the dashboard's middleware. */
export interface DashboardEnv {
  Variables: {
    /** The CSRF token of this browser's CSRF cookie, for forms and htmx. */
    csrf: string
  }
}

/** What the route modules share. */
export interface RouteDeps {
  readonly config: DashboardConfig
  readonly sampler: MetricsSampler
}

/** A route context of the dashboard. */
export type DashboardContext = Context<DashboardEnv>

/** Query parameters that are shown once (after an action) and not repeated by live refreshes. */
const ONE_SHOT = ['ok', 'error', 'n'] as const

/** The {@link ViewContext} of a request. */
export function viewContext(c: DashboardContext, deps: RouteDeps): ViewContext {
  const url = new URL(c.req.url)
  for (const k of ONE_SHOT) url.searchParams.delete(k)
  const query = url.searchParams.toString()
  return {
    base: deps.config.basePath,
    title: deps.config.title,
    backend: deps.config.source.backend,
    readOnly: deps.config.readOnly,
    csrf: c.get('csrf'),
    protected: deps.config.token !== null,
    refreshMs: deps.config.refreshMs,
    path: `${url.pathname}${query ? `?${query}` : ''}`,
    now: Date.now(),
  }
}

/** True when htmx asks for the live part of the page only. */
export function wantsLive(c: DashboardContext): boolean {
  return c.req.header('HX-Request') === 'true' && c.req.header('HX-Target') === 'live'
}

/** Renders a page (or, for a live refresh, its live part) as an HTML response. */
export function html(
  c: DashboardContext,
  body: unknown,
  status: 200 | 400 | 401 | 403 | 404 | 409 | 500 | 501 = 200,
): Response {
  c.header('Vary', 'HX-Request, HX-Target')
  const text = String(body)
  return c.html(wantsLive(c) ? text : `<!doctype html>${text}`, status)
}

/** Flash texts after an action, by the `ok` code of the redirect (never free text from the URL). */
const OK_TEXT: Readonly<Record<string, (n: number | null) => string>> = {
  replayed: () => 'Message replayed: it is pending again with its attempts reset.',
  cancelled: () => 'Message cancelled.',
  purged: (n) => `Purged ${n ?? 0} archived message(s).`,
  'run-cancelled': () => 'Run cancellation requested: CANCELLED at its next step boundary.',
  'run-resumed': () => 'Run woken: it runs again at its next delivery.',
  'worker-suspended': () => 'Worker suspended: it stops leasing at its next poll.',
  'worker-resumed': () => 'Worker resumed.',
  'worker-stopped': () => 'Worker asked to stop.',
  'logged-in': () => 'Logged in.',
}

/** The flash of a request, from its `ok` and `n` query parameters. */
export function flashOf(c: DashboardContext): Flash | undefined {
  const ok = c.req.query('ok')
  const text = ok === undefined ? undefined : OK_TEXT[ok]
  if (!text) return undefined
  const raw = c.req.query('n')
  const n = raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : null
  return { kind: 'ok', text: text(n) }
}

/** A positive integer id from a route parameter, or null (the route answers 404). */
export function idParam(c: DashboardContext, name = 'id'): number | null {
  const raw = c.req.param(name)
  if (raw === undefined || !/^[1-9]\d{0,15}$/.test(raw)) return null
  const n = Number(raw)
  return Number.isSafeInteger(n) ? n : null
}

/**
 * How long a page view waits for the very first sample of the queue counts before it renders
 * without them (they come with the next live refresh): keeps every page under its time budget.
 */
export const FIRST_SAMPLE_WAIT_MS = 100

/** Queue and workflow names the store accepts (the same pattern as `validateName`). */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/
