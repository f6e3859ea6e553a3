import type { Hono } from 'hono'
import { safeBack } from '../security.js'
import { Layout } from '../views/layout.js'
import { PurgeConfirm } from '../views/purge.js'
import {
  type DashboardContext,
  type DashboardEnv,
  html,
  idParam,
  NAME_PATTERN,
  type RouteDeps,
  viewContext,
} from './context.js'
import { errorPage, notFound } from './errors.js'

/** Longest purge age accepted (ten years). */
const MAX_AGE_MS = 10 * 365 * 86_400_000

/**
 * Answers an action with a 303 to the page it came from (`back`, when it is a dashboard path and
 * not the page `gone`) or to `fallback`, carrying the flash code `ok` (and a number `n`): POST,
 * redirect, GET.
 */
async function done(
  c: DashboardContext,
  deps: RouteDeps,
  fallback: string,
  ok: string,
  n?: number,
  gone?: string,
) {
  const body = await c.req.parseBody()
  const base = deps.config.basePath
  // `gone`: a page the action removed (a cancelled message's own page): go to `fallback` instead
  const back =
    gone !== undefined && String(body.back ?? '').split('?')[0] === `${base}${gone}`
      ? undefined
      : body.back
  const url = new URL(safeBack(base, back, `${base}${fallback}`), 'http://dashboard.invalid')
  url.searchParams.set('ok', ok)
  if (n !== undefined) url.searchParams.set('n', String(n))
  return c.redirect(`${url.pathname}${url.search}`, 303)
}

function purgeAge(raw: unknown): number | null {
  if (typeof raw !== 'string' || !/^\d{1,12}$/.test(raw)) return null
  const n = Number(raw)
  return n <= MAX_AGE_MS ? n : null
}

function registerMessageActions(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  const { source } = deps.config
  app.post('/messages/:id/replay', async (c) => {
    const id = idParam(c)
    if (id === null) return notFound(c, deps, 'No such message.')
    await source.replayMessage(id)
    return done(c, deps, `/messages/${id}`, 'replayed')
  })
  app.post('/messages/:id/cancel', async (c) => {
    const id = idParam(c)
    if (id === null) return notFound(c, deps, 'No such message.')
    if (!source.cancelMessage) {
      return errorPage(c, deps, 501, 'Not available', 'This store cannot cancel a message yet.')
    }
    const m = await source.message(id)
    if (!m || !(await source.cancelMessage(id))) {
      return errorPage(
        c,
        deps,
        409,
        'Refused',
        `Message ${id} is not pending (leased, settled, a workflow run's message, or gone).`,
      )
    }
    // a cancelled message is deleted: from its own page, go to its queue's pending messages
    const queue = `/queues/${encodeURIComponent(m.queue)}?state=pending`
    return done(c, deps, queue, 'cancelled', undefined, `/messages/${id}`)
  })
}

function registerPurge(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  const { source } = deps.config
  // the confirmation step is a GET (it changes nothing), still hidden and refused when read-only
  app.get('/queues/:name/purge', (c) => {
    const name = c.req.param('name')
    if (deps.config.readOnly)
      return errorPage(c, deps, 403, 'Read-only', 'This dashboard is read-only.')
    if (!NAME_PATTERN.test(name)) return notFound(c, deps, `No queue named ${name}.`)
    const age = purgeAge(c.req.query('olderThanMs'))
    if (age === null)
      return errorPage(
        c,
        deps,
        400,
        'Cannot do that',
        'Pick how old the archived messages must be.',
      )
    const v = viewContext(c, deps)
    return html(
      c,
      <Layout v={v} title={`Purge ${name}`} section="queues">
        <h1>Purge archived messages</h1>
        <PurgeConfirm v={v} queue={name} olderThanMs={age} />
      </Layout>,
    )
  })
  app.post('/queues/:name/purge', async (c) => {
    const name = c.req.param('name')
    if (!NAME_PATTERN.test(name)) return notFound(c, deps, `No queue named ${name}.`)
    const body = await c.req.parseBody()
    const age = purgeAge(body.olderThanMs)
    if (body.confirm !== 'yes' || age === null) {
      return errorPage(c, deps, 400, 'Cannot do that', 'A purge needs its confirmation and an age.')
    }
    const n = await source.purgeArchived({ queue: name, olderThanMs: age })
    return c.redirect(
      `${deps.config.basePath}/queues/${encodeURIComponent(name)}?state=archived&ok=purged&n=${n}`,
      303,
    )
  })
}

function registerRunActions(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  const { source } = deps.config
  app.post('/runs/:id/cancel', async (c) => {
    const id = idParam(c)
    if (id === null) return notFound(c, deps, 'No such run.')
    await source.cancelRun(id)
    return done(c, deps, `/runs/${id}`, 'run-cancelled')
  })
  app.post('/runs/:id/resume', async (c) => {
    const id = idParam(c)
    if (id === null) return notFound(c, deps, 'No such run.')
    await source.resumeRun(id)
    return done(c, deps, `/runs/${id}`, 'run-resumed')
  })
}

function registerWorkerActions(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  const { source } = deps.config
  app.post('/workers/:id/:action{suspend|resume|stop}', async (c) => {
    const id = idParam(c)
    if (id === null) return notFound(c, deps, 'No such worker.')
    const action = c.req.param('action')
    if (action === 'suspend') await source.suspendWorker(id)
    else if (action === 'resume') await source.resumeWorker(id)
    else {
      // stop: a polling worker is interrupted (it finishes its poll); a suspended one is shut down
      const w = await source.worker(id)
      if (!w) return notFound(c, deps, `No worker ${id}.`)
      if (w.status === 'polling') await source.interruptWorker(id)
      else if (w.status === 'suspended') await source.shutdownWorker(id)
      else {
        return errorPage(
          c,
          deps,
          409,
          'Refused',
          `Worker ${w.name} is ${w.status}: suspend it first, then stop it.`,
        )
      }
    }
    const ok = { suspend: 'worker-suspended', resume: 'worker-resumed', stop: 'worker-stopped' }[
      action
    ]
    return done(c, deps, '/workers', ok ?? 'worker-stopped')
  })
}

/** The POST actions (and the purge confirmation); the middleware has checked auth, read-only and CSRF. */
export function registerActions(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  registerMessageActions(app, deps)
  registerPurge(app, deps)
  registerRunActions(app, deps)
  registerWorkerActions(app, deps)
}
