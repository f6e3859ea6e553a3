import type { EventRecord, RunRecord, RunValue, StepRecord } from '@pgqrs/core'
import type { Hono } from 'hono'
import { Status, When } from '../views/components.js'
import { pretty, preview } from '../views/format.js'
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
/** Events and published values shown on a run's page (the first ones). */
export const MAX_EVENTS = 100
/** Child runs shown on a run's page (the newest ones; a run with more says so). */
export const MAX_CHILDREN = 100

/** The runs this run started (`ctx.startChild`): which step started each, and how it stands. */
function ChildTable(props: { v: ViewContext; runs: readonly RunRecord[] }) {
  const { v } = props
  if (props.runs.length === 0) return <p class="muted">No child runs.</p>
  return (
    <table class="children">
      <thead>
        <tr>
          <th class="num">Run</th>
          <th>Workflow</th>
          <th>Status</th>
          <th>Created</th>
          <th>Finished</th>
          <th>Started by step</th>
        </tr>
      </thead>
      <tbody>
        {props.runs.map((r) => (
          <tr data-child={String(r.id)}>
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
            <td>
              <When date={r.completedAt} now={v.now} />
            </td>
            <td class="mono">{r.parentStep ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** The events sent to the run: who took them (a wait step) and when. */
function EventTable(props: { v: ViewContext; events: readonly EventRecord[] }) {
  const { v } = props
  if (props.events.length === 0) return <p class="muted">No events sent to this run.</p>
  return (
    <table class="events">
      <thead>
        <tr>
          <th>Event</th>
          <th>Sent</th>
          <th>Taken by</th>
          <th>Payload</th>
        </tr>
      </thead>
      <tbody>
        {props.events.map((e) => (
          <tr data-event={e.name}>
            <td class="mono">{e.name}</td>
            <td>
              <When date={e.createdAt} now={v.now} />
            </td>
            <td>
              {e.consumedBy ? (
                <span class="mono">{e.consumedBy} </span>
              ) : (
                <span class="muted">pending</span>
              )}
              {e.consumedAt ? <When date={e.consumedAt} now={v.now} /> : null}
            </td>
            <td class="mono">
              <details>
                <summary>{preview(e.payload, 70)}</summary>
                <Json value={pretty(e.payload)} />
              </details>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** The values the run published (`ctx.setEvent`), latest per key. */
function ValueTable(props: { v: ViewContext; values: readonly RunValue[] }) {
  const { v } = props
  if (props.values.length === 0) return <p class="muted">No values published.</p>
  return (
    <table class="values">
      <thead>
        <tr>
          <th>Key</th>
          <th>Updated</th>
          <th>Value</th>
        </tr>
      </thead>
      <tbody>
        {props.values.map((x) => (
          <tr data-value={x.key}>
            <td class="mono">{x.key}</td>
            <td>
              <When date={x.updatedAt} now={v.now} />
            </td>
            <td class="mono">
              <details>
                <summary>{preview(x.value, 70)}</summary>
                <Json value={pretty(x.value)} />
              </details>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function RunBody(props: {
  v: ViewContext
  run: RunRecord
  steps: readonly StepRecord[]
  events: readonly EventRecord[] | null
  values: readonly RunValue[] | null
  /** The newest child runs (one more than {@link MAX_CHILDREN} when there are more), or null. */
  childRuns: readonly RunRecord[] | null
}) {
  const { v, run } = props
  const children = props.childRuns?.slice(0, MAX_CHILDREN) ?? null
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
        {run.parentId !== null && run.parentId !== undefined ? (
          <span data-field="parent">
            child of <a href={`${v.base}/runs/${run.parentId}`}>{`run #${run.parentId}`}</a>
            {run.parentStep ? (
              <>
                {' '}
                from step <span class="mono">{run.parentStep}</span>
              </>
            ) : null}
          </span>
        ) : null}
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
      {children ? (
        <section>
          <h2>Children</h2>
          <ChildTable v={v} runs={children} />
          {props.childRuns!.length > MAX_CHILDREN ? (
            <p class="note">The newest {MAX_CHILDREN} child runs.</p>
          ) : null}
        </section>
      ) : null}
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
      <div class="grid2">
        {props.events ? (
          <section>
            <h2>Events</h2>
            <EventTable v={v} events={props.events} />
            {props.events.length === MAX_EVENTS ? (
              <p class="note">The first {MAX_EVENTS} events.</p>
            ) : null}
          </section>
        ) : null}
        {props.values ? (
          <section>
            <h2>Published values</h2>
            <ValueTable v={v} values={props.values} />
          </section>
        ) : null}
      </div>
    </Live>
  )
}

/**
 * GET /runs/:id — a run's input, output or error, its parent (a child run), its steps as a
 * timeline, the child runs it started, the events sent to it and the values it published (where
 * the source has them).
 */
export function registerRun(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  app.get('/runs/:id', async (c) => {
    const id = idParam(c)
    if (id === null) return notFound(c, deps, 'No such run.')
    const { source } = deps.config
    const [run, steps, events, values, children] = await Promise.all([
      source.run(id),
      source.steps(id, { limit: MAX_STEPS }),
      source.runEvents ? source.runEvents(id, { limit: MAX_EVENTS }) : null,
      source.runValues ? source.runValues(id, { limit: MAX_EVENTS }) : null,
      // one more than shown, so that the page can say when there are more
      source.runChildren ? source.runChildren(id, { limit: MAX_CHILDREN + 1 }) : null,
    ])
    if (!run) return notFound(c, deps, `No run ${id}.`)
    const v = viewContext(c, deps)
    const body = (
      <RunBody v={v} run={run} steps={steps} events={events} values={values} childRuns={children} />
    )
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
