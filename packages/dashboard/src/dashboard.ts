import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { ASSETS } from './assets.js'
import {
  type DashboardConfig,
  type DashboardOptions,
  resolveDashboardConfig,
} from './dashboard-config.js'
import { authenticate, csrf, readOnlyGuard, securityHeaders } from './middleware.js'
import { type NodeHandler, toNodeHandler } from './node-handler.js'
import { registerActions } from './routes/actions.js'
import type { DashboardEnv, RouteDeps } from './routes/context.js'
import { errorResponse, notFound } from './routes/errors.js'
import { registerLogin } from './routes/login.js'
import { registerMessage } from './routes/message.js'
import { registerOverview } from './routes/overview.js'
import { registerQueue } from './routes/queue.js'
import { registerRun } from './routes/run.js'
import { registerRuns } from './routes/runs.js'
import { registerWorkers } from './routes/workers.js'
import { MetricsSampler } from './sampler.js'

/** A dashboard: one fetch handler, its Node adapter, and `close()`. */
export interface Dashboard {
  /** The fetch-style handler: `(request) => Promise<Response>` (Hono, Bun, Deno, workers). */
  readonly fetch: (request: Request) => Promise<Response>
  /** The same handler for Node's `(req, res)`: `http.createServer(dashboard.node)`. */
  readonly node: NodeHandler
  /** The resolved configuration (its `secret` is never rendered). */
  readonly config: DashboardConfig
  /** Stops the metrics sampler. The store stays open: it belongs to the caller. Safe to call twice. */
  close(): void
}

/** Static files: public (the login page needs the stylesheet) and cached for a year. */
function registerAssets(app: Hono<DashboardEnv>): void {
  for (const asset of Object.values(ASSETS)) {
    app.get(asset.path, (c) =>
      c.body(asset.body, 200, {
        'Content-Type': asset.type,
        'Cache-Control': 'public, max-age=31536000, immutable',
      }),
    )
  }
}

/**
 * Creates the dashboard over a store (or a {@link DashboardSource}). Mount it under
 * `options.basePath`: every path outside it answers 404.
 *
 * @example
 * ```ts
 * const dashboard = createDashboard({ store, basePath: '/admin/pgqrs', readOnly: true })
 * http.createServer(dashboard.node).listen(8080)
 * ```
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const config = resolveDashboardConfig(options)
  const sampler = new MetricsSampler(() => config.source.queueMetrics(), {
    intervalMs: config.sampleIntervalMs,
  })
  // one sample now, so that the first page view has counts to show (a background read; the timer
  // that keeps sampling starts with the first view)
  sampler.sample().catch(() => {})
  const deps: RouteDeps = { config, sampler }
  // strict: false, so that `/admin/pgqrs` and `/admin/pgqrs/` are both the overview
  const root = new Hono<DashboardEnv>({ strict: false })
  const app = config.basePath ? root.basePath(config.basePath) : root
  root.use('*', securityHeaders())
  registerAssets(app)
  app.use('*', authenticate(config))
  app.use('*', readOnlyGuard(config))
  app.use(
    '*',
    bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text('413 Payload Too Large', 413) }),
  )
  app.use('*', csrf(config))
  app.use('*', async (_c, next) => {
    sampler.touch()
    await next()
  })
  registerLogin(app, deps)
  registerOverview(app, deps)
  registerQueue(app, deps)
  registerMessage(app, deps)
  registerRuns(app, deps)
  registerRun(app, deps)
  registerWorkers(app, deps)
  registerActions(app, deps)
  // outside the base path (or before the middleware ran) nothing about the store is shown
  const inside = (path: string) =>
    path === config.basePath || path.startsWith(`${config.basePath}/`)
  root.notFound((c) =>
    inside(c.req.path) && c.get('csrf') !== undefined
      ? notFound(c, deps, 'No such page.')
      : c.text('404 Not Found', 404),
  )
  root.onError((error, c) =>
    c.get('csrf') !== undefined
      ? errorResponse(c, deps, error)
      : c.text('500 Internal Server Error', 500),
  )
  const fetch = async (request: Request) => root.fetch(request)
  return {
    fetch,
    node: toNodeHandler(fetch),
    config,
    close: () => sampler.close(),
  }
}
