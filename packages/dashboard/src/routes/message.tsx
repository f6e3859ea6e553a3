import type { QueueMessage, RunRecord, WorkerRecord } from '@pgqrs/core'
import type { Hono } from 'hono'
import type { MessageAttempt } from '../source.js'
import { Status, When } from '../views/components.js'
import { duration, messageState, pretty } from '../views/format.js'
import { Json } from '../views/json.js'
import { Layout, Live, type ViewContext } from '../views/layout.js'
import { MessageActions } from '../views/message-table.js'
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

const between = (a: Date | null, b: Date | null) =>
  a && b ? duration(b.getTime() - a.getTime()) : '—'

function Timings(props: { v: ViewContext; m: QueueMessage }) {
  const { v, m } = props
  const settled = m.archivedAt ?? m.deadAt
  return (
    <dl class="fields">
      <dt>Enqueued</dt>
      <dd>
        <When date={m.enqueuedAt} now={v.now} />
      </dd>
      <dt>Last delivered</dt>
      <dd>
        <When date={m.dequeuedAt} now={v.now} />
      </dd>
      <dt>{m.lease ? 'Lease runs out' : 'Visible'}</dt>
      <dd>
        <When date={m.visibleAt} now={v.now} />
      </dd>
      <dt>{m.deadAt ? 'Dead' : 'Archived'}</dt>
      <dd>
        <When date={settled} now={v.now} />
      </dd>
      <dt>Waited before last delivery</dt>
      <dd>{between(m.enqueuedAt, m.dequeuedAt)}</dd>
      <dt>Last delivery to settle</dt>
      <dd>{between(m.dequeuedAt, settled)}</dd>
      {m.startedAt || m.finishedAt ? (
        <>
          <dt>Settling delivery began</dt>
          <dd data-field="started">
            <When date={m.startedAt ?? null} now={v.now} />
          </dd>
          <dt>Finished</dt>
          <dd data-field="finished">
            <When date={m.finishedAt ?? null} now={v.now} />
          </dd>
          <dt>Handled in</dt>
          <dd data-field="handled-in">{between(m.startedAt ?? null, m.finishedAt ?? null)}</dd>
        </>
      ) : null}
    </dl>
  )
}

function Attempts(props: {
  v: ViewContext
  m: QueueMessage
  attempts: readonly MessageAttempt[] | null
}) {
  const { v, m, attempts } = props
  if (attempts === null) {
    return (
      <div>
        {m.lastError ? (
          <pre class="error">{m.lastError}</pre>
        ) : (
          <p class="muted">No error recorded.</p>
        )}
        <p class="note">
          The store keeps the last error only; the history of every attempt needs a store API that
          does not exist yet.
        </p>
      </div>
    )
  }
  if (attempts.length === 0) return <p class="muted">Not delivered yet.</p>
  return (
    <table class="attempts">
      <thead>
        <tr>
          <th class="num">#</th>
          <th>Started</th>
          <th>Took</th>
          <th>Outcome</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((a) => (
          <tr>
            <td class="num">{a.attempt}</td>
            <td>
              <When date={a.startedAt} now={v.now} />
            </td>
            <td>{between(a.startedAt, a.endedAt)}</td>
            <td>
              <Status status={a.outcome} />
            </td>
            <td class="mono">{a.error ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function MessageBody(props: {
  v: ViewContext
  m: QueueMessage
  run: RunRecord | null
  attempts: readonly MessageAttempt[] | null
  consumer: WorkerRecord | null
  canCancel: boolean
}) {
  const { v, m, run } = props
  return (
    <Live v={v}>
      <div class="actions">
        <Status status={messageState(m, v.now)} />
        <span>
          queue <a href={`${v.base}/queues/${encodeURIComponent(m.queue)}`}>{m.queue}</a>
        </span>
        <span>{`attempts ${m.attempts}/${m.maxAttempts}`}</span>
        <span>{`priority ${m.priority}`}</span>
        {m.dedupeKey ? <span class="mono">{`dedupe key ${m.dedupeKey}`}</span> : null}
        {props.consumer ? <span class="mono">{`last consumer ${props.consumer.name}`}</span> : null}
        <MessageActions v={v} m={m} canCancel={props.canCancel} />
      </div>
      <div class="grid2">
        <section>
          <h2>Timings</h2>
          <Timings v={v} m={m} />
        </section>
        <section>
          <h2>Result</h2>
          {run ? (
            <p>
              Carries workflow run <a href={`${v.base}/runs/${run.id}`}>{`#${run.id}`}</a> (
              <Status status={run.status} />
              ), whose output and error are on the run's page.
            </p>
          ) : m.result !== undefined ? (
            <div data-field="result">
              <Json value={pretty(m.result)} />
            </div>
          ) : (
            <p class="muted">
              {m.archivedAt
                ? 'Nothing stored: the handler returned no value.'
                : m.deadAt
                  ? 'Dead: no handler succeeded.'
                  : 'Not handled yet: what the handler returns is kept here.'}
            </p>
          )}
          <h2>Errors</h2>
          <Attempts v={v} m={m} attempts={props.attempts} />
        </section>
      </div>
      <h2>Payload</h2>
      <Json value={pretty(m.payload)} />
    </Live>
  )
}

/** GET /messages/:id — a message's payload, state, timings and errors, with replay and cancel. */
export function registerMessage(app: Hono<DashboardEnv>, deps: RouteDeps): void {
  app.get('/messages/:id', async (c) => {
    const id = idParam(c)
    if (id === null) return notFound(c, deps, 'No such message.')
    const { source } = deps.config
    const [m, run, attempts] = await Promise.all([
      source.message(id),
      source.messageRun(id),
      source.messageAttempts ? source.messageAttempts(id, { limit: 100 }) : null,
    ])
    if (!m) return notFound(c, deps, `No message ${id} (it may have been deleted or purged).`)
    const consumer = m.consumerId === null ? null : await source.worker(m.consumerId)
    const v = viewContext(c, deps)
    const body = (
      <MessageBody
        v={v}
        m={m}
        run={run}
        attempts={attempts}
        consumer={consumer}
        canCancel={source.cancelMessage !== undefined && run === null}
      />
    )
    if (wantsLive(c)) return html(c, body)
    return html(
      c,
      <Layout v={v} title={`Message ${id}`} section="queues" flash={flashOf(c)}>
        <h1>Message {id}</h1>
        {body}
      </Layout>,
    )
  })
}
