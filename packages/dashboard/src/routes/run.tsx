import type { RunRecord, StepRecord } from '@pgqrs/core'
import type { Hono } from 'hono'
import { Status, When } from '../views/components.js'
import { pretty } from '../views/format.js'
import { Json } from '../views/json.js'
import { Action, Layout, Live, type ViewContext } from '../views/layout.js'
import { StepTable, stepSpans, TimelineChart } from '../views/timeline.js'
import {
  type DashboardEnv,
  flashOf,
  html,
  idParam,
  type RouteDeps,
  viewContext,
  wantsLive,
} from './context.js'
import { notFound } from './errors.js'
import { cancellable, runDuration } from './runs.js'

/** Steps shown on a run's page (a run with more shows the first ones and says so). */
export const MAX_STEPS = 500

function RunBody(props: { v: ViewContext; run: RunRecord; steps: readonly StepRecord[] }) {
  const { v, run } = props
  const spans = stepSpans(props.steps, v.now)
  return (
    <Live v={v}>
      <div class="actions">
        <Status status={run.status} />
        <span>
          workflow{' '}
          <a href={`${v.base}/runs?workflow=${encodeURIComponent(run.workflow)}`}>{run.workflow}</a>
        </span>
        <span>
          message <a href={`${v.base}/messages/${run.messageId}`}>{run.messageId}</a>
        </span>
        {run.idempotencyKey ? (
          <span class="mono">{`idempotency key ${run.idempotencyKey}`}</span>
        ) : null}
        {cancellable(run) ? (
          <Action
            v={v}
            action={`/runs/${run.id}/cancel`}
            label="Cancel run"
            name="cancel-run"
            danger
          />
        ) : null}
        {run.status === 'SLEEPING' || run.status === 'PAUSED' ? (
          <Action v={v} action={`/runs/${run.id}/resume`} label="Resume now" name="resume-run" />
        ) : null}
      </div>
      <dl class="fields">
        <dt>Created</dt>
        <dd>
          <When date={run.createdAt} now={v.now} />
        </dd>
        <dt>Started</dt>
        <dd>
          <When date={run.startedAt} now={v.now} />
        </dd>
        <dt>Finished</dt>
        <dd>
          <When date={run.completedAt} now={v.now} />
        </dd>
        <dt>Duration</dt>
        <dd>{runDuration(run, v.now)}</dd>
        {run.wakeAt ? (
          <>
            <dt>Wakes</dt>
            <dd>
              <When date={run.wakeAt} now={v.now} />
            </dd>
          </>
        ) : null}
        <dt>Updated</dt>
        <dd>
          <When date={run.updatedAt} now={v.now} />
        </dd>
      </dl>
      <h2>Steps</h2>
      <TimelineChart run={run} spans={spans} now={v.now} />
      <StepTable v={v} spans={spans} />
      {props.steps.length === MAX_STEPS ? <p class="note">The first {MAX_STEPS} steps.</p> : null}
      <div class="grid2">
        <section>
          <h2>Input</h2>
          <Json value={pretty(run.input)} empty="No input." />
        </section>
        <section>
          <h2>{run.error !== null && run.error !== undefined ? 'Error' : 'Output'}</h2>
          <Json
            value={pretty(run.error ?? run.output ?? undefined)}
            empty={run.completedAt ? 'No output.' : 'Not finished yet.'}
          />
        </section>
      </div>
      <p class="note">This pgqrs version has no child runs or run events: a run is its steps.</p>
    </Live>
  )
}

/** GET /runs/:id — a run's input, output or error, and its steps as a timeline. */
export function registerRun(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  app.get('/runs/:id', async (c) => {
    const id = idParam(c)
    if (id === null) return notFound(c, deps, 'No such run.')
    const { source } = deps.config
    const [run, steps] = await Promise.all([source.run(id), source.steps(id, { limit: MAX_STEPS })])
    if (!run) return notFound(c, deps, `No run ${id}.`)
    const v = viewContext(c, deps)
    const body = <RunBody v={v} run={run} steps={steps} />
    if (wantsLive(c)) return html(c, body)
    return html(
      c,
      <Layout v={v} title={`Run ${id}`} section="runs" flash={flashOf(c)}>
        <h1>
          Run #{id} <span class="muted">{run.workflow}</span>
        </h1>
        {body}
      </Layout>,
    )
  })
}
