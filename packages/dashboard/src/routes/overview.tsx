import type { QueueMetrics } from '@pgqrs/core'
import type { Hono } from 'hono'
import { runCounts } from '../run-counts.js'
import type { MetricsSample } from '../sampler.js'
import { ThroughputCharts } from '../views/chart.js'
import { Card, RunStatusCounts, STALE_MS, When, WorkerTable } from '../views/components.js'
import { ago, count, duration } from '../views/format.js'
import { Layout, Live, type ViewContext } from '../views/layout.js'
import {
  type DashboardEnv,
  FIRST_SAMPLE_WAIT_MS,
  flashOf,
  html,
  type RouteDeps,
  viewContext,
  wantsLive,
} from './context.js'

/** Totals over every queue of a sample. */
function totals(queues: readonly QueueMetrics[]) {
  const sum = (k: 'pending' | 'leased' | 'delayed' | 'dead' | 'archived') =>
    queues.reduce((n, q) => n + q[k], 0)
  return {
    pending: sum('pending'),
    leased: sum('leased'),
    delayed: sum('delayed'),
    dead: sum('dead'),
  }
}

/** A note saying how old the counts are (they come from the sampler, not from this page view). */
export function SampleAge(props: {
  sample: MetricsSample | null
  v: ViewContext
  error: Error | undefined
}) {
  if (!props.sample) {
    return (
      <p class="note">
        Reading the queue counts (the first count of a large archive takes a moment): they appear
        with the next refresh.
      </p>
    )
  }
  return (
    <p class="note">
      Counts sampled {ago(new Date(props.sample.at), props.v.now)}.
      {props.error ? (
        <span class="stale"> The last sample failed; showing the one before.</span>
      ) : null}
    </p>
  )
}

function QueueTable(props: { v: ViewContext; sample: MetricsSample | null; deps: RouteDeps }) {
  const { v, sample } = props
  if (!sample) return null
  if (sample.queues.length === 0) return <p class="muted">No queues yet.</p>
  return (
    <table class="queues">
      <thead>
        <tr>
          <th>Queue</th>
          <th class="num">Pending</th>
          <th class="num">Delayed</th>
          <th class="num">In flight</th>
          <th class="num">Dead</th>
          <th class="num">Archived</th>
          <th class="num">Oldest pending</th>
          <th class="num">Handled/s</th>
          <th>Newest message</th>
        </tr>
      </thead>
      <tbody>
        {sample.queues.map((q) => {
          const rate = props.deps.sampler.rates(q.name).at(-1)
          return (
            <tr data-queue={q.name}>
              <td>
                <a href={`${v.base}/queues/${encodeURIComponent(q.name)}`}>{q.name}</a>
              </td>
              <td class="num">{count(q.pending)}</td>
              <td class="num">{count(q.delayed)}</td>
              <td class="num">{count(q.leased)}</td>
              <td class="num">
                {q.dead > 0 ? (
                  <a href={`${v.base}/queues/${encodeURIComponent(q.name)}?state=dead`}>
                    {count(q.dead)}
                  </a>
                ) : (
                  '0'
                )}
              </td>
              <td class="num">{count(q.archived)}</td>
              <td class="num">
                {q.oldestPendingAgeMs === null ? '—' : duration(q.oldestPendingAgeMs)}
              </td>
              <td class="num">{rate ? rate.throughput.toFixed(1) : '—'}</td>
              <td>
                <When date={q.newestEnqueuedAt} now={v.now} />
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}

/** GET / — every queue, the charts, the workers and the runs by status. */
export function registerOverview(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  app.get('/', async (c) => {
    const { source, pageSize } = deps.config
    // a fixed set of reads per view: the counts come from the sampler (no count per view)
    const [sample, workers, queues, runs] = await Promise.all([
      deps.sampler.current(FIRST_SAMPLE_WAIT_MS),
      source.workers({ limit: pageSize }),
      source.queues(),
      runCounts(source),
    ])
    const v = viewContext(c, deps)
    const t = totals(sample?.queues ?? [])
    const live = workers.filter((w) => w.status !== 'stopped')
    const stale = live.filter((w) => v.now - w.heartbeatAt.getTime() > STALE_MS).length
    const body = (
      <Live v={v}>
        <div class="cards">
          <Card label="queues" value={sample ? sample.queues.length : '…'} />
          <Card label="pending" value={sample ? t.pending : '…'} />
          <Card label="delayed" value={sample ? t.delayed : '…'} />
          <Card label="in flight" value={sample ? t.leased : '…'} />
          <Card label="dead" value={sample ? t.dead : '…'} />
          <Card
            label={stale ? `live workers (${stale} stale)` : 'live workers'}
            value={live.length}
          />
        </div>
        <ThroughputCharts points={deps.sampler.rates()} intervalMs={deps.sampler.intervalMs} />
        <h2>Queues</h2>
        <QueueTable v={v} sample={sample} deps={deps} />
        <SampleAge sample={sample} v={v} error={deps.sampler.lastError} />
        <div class="grid2">
          <section>
            <h2>
              Workers <a href={`${v.base}/workers`}>(all)</a>
            </h2>
            <WorkerTable v={v} workers={workers.slice(0, 10)} queues={queues} actions={false} />
          </section>
          <section>
            <h2>
              Workflow runs <a href={`${v.base}/runs`}>(all)</a>
            </h2>
            <RunStatusCounts v={v} runs={runs} />
          </section>
        </div>
      </Live>
    )
    if (wantsLive(c)) return html(c, body)
    return html(
      c,
      <Layout v={v} title="Overview" section="overview" flash={flashOf(c)}>
        <h1>Overview</h1>
        {body}
      </Layout>,
    )
  })
}
