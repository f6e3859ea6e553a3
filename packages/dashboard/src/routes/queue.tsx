import type { Hono } from 'hono'
import type { MessageListState } from '../source.js'
import { ThroughputCharts } from '../views/chart.js'
import { Card } from '../views/components.js'
import { duration } from '../views/format.js'
import { Layout, Live } from '../views/layout.js'
import { MessageTable } from '../views/message-table.js'
import { PurgeForm } from '../views/purge.js'
import {
  type DashboardContext,
  type DashboardEnv,
  FIRST_SAMPLE_WAIT_MS,
  flashOf,
  html,
  NAME_PATTERN,
  type RouteDeps,
  viewContext,
  wantsLive,
} from './context.js'
import { SampleAge } from './overview.js'
import { notFound } from './errors.js'

/** The state tabs of the queue page, in order, with their labels. */
export const STATE_TABS: readonly { state: MessageListState; label: string }[] = [
  { state: 'active', label: 'active' },
  { state: 'pending', label: 'pending' },
  { state: 'leased', label: 'in flight' },
  { state: 'delayed', label: 'delayed' },
  { state: 'dead', label: 'dead' },
  { state: 'archived', label: 'archived' },
]

/** The `state` query parameter, or `active`. */
function stateParam(c: DashboardContext): MessageListState {
  const raw = c.req.query('state')
  return STATE_TABS.find((t) => t.state === raw)?.state ?? 'active'
}

/** GET /queues/:name — one queue's counts, chart and messages by state. */
export function registerQueue(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  app.get('/queues/:name', async (c) => {
    const name = c.req.param('name')
    if (!NAME_PATTERN.test(name)) return notFound(c, deps, `No queue named ${name}.`)
    const state = stateParam(c)
    const { source, pageSize } = deps.config
    const [sample, messages, queues] = await Promise.all([
      deps.sampler.current(FIRST_SAMPLE_WAIT_MS),
      source.messages(name, { state, limit: pageSize }),
      source.queues(),
    ])
    if (!queues.some((q) => q.name === name)) return notFound(c, deps, `No queue named ${name}.`)
    const m = sample?.queues.find((q) => q.name === name)
    const v = viewContext(c, deps)
    const q = encodeURIComponent(name)
    const body = (
      <Live v={v}>
        {m ? (
          <div class="cards">
            <Card label="pending" value={m.pending} />
            <Card label="delayed" value={m.delayed} />
            <Card label="in flight" value={m.leased} />
            <Card label="dead" value={m.dead} />
            <Card label="archived" value={m.archived} />
            <Card
              label="oldest pending"
              value={m.oldestPendingAgeMs === null ? '—' : duration(m.oldestPendingAgeMs)}
            />
          </div>
        ) : (
          <p class="note">
            This queue is newer than the last sample: its counts come with the next one.
          </p>
        )}
        <ThroughputCharts points={deps.sampler.rates(name)} intervalMs={deps.sampler.intervalMs} />
        <SampleAge sample={sample} v={v} error={deps.sampler.lastError} />
        <h2>Messages: {STATE_TABS.find((t) => t.state === state)!.label}</h2>
        <MessageTable v={v} messages={messages} canCancel={source.cancelMessage !== undefined} />
        {messages.length === pageSize ? (
          <p class="note">
            Showing the oldest {pageSize} (the store lists messages oldest first, without paging
            yet).
          </p>
        ) : null}
      </Live>
    )
    if (wantsLive(c)) return html(c, body)
    return html(
      c,
      <Layout v={v} title={`Queue ${name}`} section="queues" flash={flashOf(c)}>
        <h1>
          Queue <span class="mono">{name}</span>
        </h1>
        <nav class="tabs" aria-label="Message state">
          {STATE_TABS.map((t) => (
            <a
              href={`${v.base}/queues/${q}?state=${t.state}`}
              class={t.state === state ? 'current' : undefined}
              data-state={t.state}
            >
              {t.label}
            </a>
          ))}
        </nav>
        {body}
        {v.readOnly ? null : <PurgeForm v={v} queue={name} />}
      </Layout>,
    )
  })
}
