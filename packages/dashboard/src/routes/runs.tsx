import { RUN_STATUSES, type RunRecord, type RunStatus, TERMINAL_RUN_STATUSES } from '@pgqrs/core'
import type { Hono } from 'hono'
import { Status, When } from '../views/components.js'
import { duration, preview } from '../views/format.js'
import { Layout, Live, type ViewContext } from '../views/layout.js'
import {
  type DashboardContext,
  type DashboardEnv,
  flashOf,
  html,
  NAME_PATTERN,
  type RouteDeps,
  viewContext,
  wantsLive,
} from './context.js'

/** How long a run ran (or has been running). */
export function runDuration(r: RunRecord, now: number): string {
  if (!r.startedAt) return '—'
  return duration((r.completedAt?.getTime() ?? now) - r.startedAt.getTime())
}

/** True when a run may still be cancelled. */
export function cancellable(r: RunRecord): boolean {
  return !TERMINAL_RUN_STATUSES.includes(r.status) && r.status !== 'CANCELLING'
}

function RunTable(props: { v: ViewContext; runs: readonly RunRecord[] }) {
  const { v } = props
  if (props.runs.length === 0) return <p class="muted">No runs match.</p>
  return (
    <table class="runs">
      <thead>
        <tr>
          <th class="num">Run</th>
          <th>Workflow</th>
          <th>Status</th>
          <th>Created</th>
          <th class="num">Duration</th>
          <th>Input</th>
          <th>Output / error</th>
        </tr>
      </thead>
      <tbody>
        {props.runs.map((r) => (
          <tr data-run={String(r.id)}>
            <td class="num">
              <a href={`${v.base}/runs/${r.id}`}>{`#${r.id}`}</a>
            </td>
            <td>{r.workflow}</td>
            <td>
              <Status status={r.status} />
            </td>
            <td>
              <When date={r.createdAt} now={v.now} />
            </td>
            <td class="num">{runDuration(r, v.now)}</td>
            <td class="mono">{preview(r.input, 60)}</td>
            <td class="mono">{preview(r.error ?? r.output ?? undefined, 60)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function filters(c: DashboardContext): { workflow?: string; status?: RunStatus } {
  const workflow = c.req.query('workflow')
  const status = c.req.query('status')
  return {
    ...(workflow && NAME_PATTERN.test(workflow) ? { workflow } : {}),
    ...(status && (RUN_STATUSES as readonly string[]).includes(status)
      ? { status: status as RunStatus }
      : {}),
  }
}

/** GET /runs — runs newest first, filtered by workflow and status. */
export function registerRuns(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  app.get('/runs', async (c) => {
    const { source, pageSize } = deps.config
    const f = filters(c)
    const [workflows, runs] = await Promise.all([
      source.workflows(),
      source.runs({ ...f, limit: pageSize }),
    ])
    const v = viewContext(c, deps)
    const body = (
      <Live v={v}>
        <RunTable v={v} runs={runs} />
        {runs.length === pageSize ? (
          <p class="note">The newest {pageSize} runs that match.</p>
        ) : null}
      </Live>
    )
    if (wantsLive(c)) return html(c, body)
    return html(
      c,
      <Layout v={v} title="Runs" section="runs" flash={flashOf(c)}>
        <h1>Workflow runs</h1>
        <form method="get" action={`${v.base}/runs`} class="filters">
          <label>
            Workflow
            <select name="workflow">
              <option value="">all</option>
              {workflows.map((w) => (
                <option value={w.name} selected={w.name === f.workflow}>
                  {w.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Status
            <select name="status">
              <option value="">all</option>
              {RUN_STATUSES.map((s) => (
                <option value={s} selected={s === f.status}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Filter</button>
        </form>
        {body}
      </Layout>,
    )
  })
}
