import type { Hono } from 'hono'
import { WorkerTable } from '../views/components.js'
import { Layout, Live } from '../views/layout.js'
import {
  type DashboardEnv,
  flashOf,
  html,
  type RouteDeps,
  viewContext,
  wantsLive,
} from './context.js'

/** GET /workers — the worker registry with suspend / resume / stop. */
export function registerWorkers(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  app.get('/workers', async (c) => {
    const { source, pageSize } = deps.config
    const [workers, queues] = await Promise.all([
      source.workers({ limit: pageSize }),
      source.queues(),
    ])
    const v = viewContext(c, deps)
    const body = (
      <Live v={v}>
        <WorkerTable v={v} workers={workers} queues={queues} actions />
        {workers.length === pageSize ? (
          <p class="note">The first {pageSize} workers (live ones first).</p>
        ) : null}
      </Live>
    )
    if (wantsLive(c)) return html(c, body)
    return html(
      c,
      <Layout v={v} title="Workers" section="workers" flash={flashOf(c)}>
        <h1>Workers</h1>
        {v.readOnly ? null : (
          <p class="note">
            Suspend: the worker stops leasing at its next poll. Resume: it leases again. Stop: a
            polling worker finishes its poll and stops; a suspended one is shut down.
          </p>
        )}
        {body}
        <h2>Schedules</h2>
        <p class="muted">This pgqrs version has no schedules.</p>
      </Layout>,
    )
  })
}
