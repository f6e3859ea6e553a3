import { RUN_STATUSES, type QueueRecord, type WorkerRecord } from '@pgqrs/core'
import type { RunCounts } from '../run-counts.js'
import { ago, count, iso, statusClass } from './format.js'
import { Action, type ViewContext } from './layout.js'

/** A worker whose heartbeat is older than this is shown as stale (the admin default). */
export const STALE_MS = 60_000

/** A status as a coloured pill. */
export function Status(props: { status: string }) {
  return <span class={`status ${statusClass(props.status)}`}>{props.status}</span>
}

/** A relative time with the exact instant in its tooltip. */
export function When(props: { date: Date | null | undefined; now: number }) {
  if (!props.date) return <span class="muted">—</span>
  return (
    <time datetime={iso(props.date)} title={iso(props.date)}>
      {ago(props.date, props.now)}
    </time>
  )
}

/** One number with its label, for the summary row. */
export function Card(props: { label: string; value: number | string }) {
  return (
    <div class="card">
      <div class="value">{typeof props.value === 'number' ? count(props.value) : props.value}</div>
      <div class="label">{props.label}</div>
    </div>
  )
}

/** Runs by status, each a link to the filtered runs page. */
export function RunStatusCounts(props: { v: ViewContext; runs: RunCounts }) {
  const { v, runs } = props
  return (
    <div>
      <div class="status-counts">
        {RUN_STATUSES.map((s) => (
          <a href={`${v.base}/runs?status=${s}`} data-status={s}>
            <Status status={s} /> <span class="num">{count(runs.counts[s])}</span>
          </a>
        ))}
      </div>
      {runs.sampleOf === null ? null : (
        <p class="note">
          Among the newest {count(runs.sampleOf)} runs (this store cannot count runs by status: it
          has no <code>runs.counts</code>).
        </p>
      )}
    </div>
  )
}

/** The worker actions allowed from `status` (the worker transition table). */
function WorkerActions(props: { v: ViewContext; w: WorkerRecord }) {
  const { v, w } = props
  const base = `/workers/${w.id}`
  return (
    <span class="actions">
      {['ready', 'polling', 'interrupted'].includes(w.status) ? (
        <Action v={v} action={`${base}/suspend`} label="Suspend" name="suspend" />
      ) : null}
      {w.status === 'suspended' ? (
        <Action v={v} action={`${base}/resume`} label="Resume" name="resume" />
      ) : null}
      {w.status === 'polling' || w.status === 'suspended' ? (
        <Action v={v} action={`${base}/stop`} label="Stop" name="stop" danger />
      ) : null}
    </span>
  )
}

/** The worker registry as a table, with actions when `actions` (and not read-only). */
export function WorkerTable(props: {
  v: ViewContext
  workers: readonly WorkerRecord[]
  queues: readonly QueueRecord[]
  actions: boolean
}) {
  const { v } = props
  const names = new Map(props.queues.map((q) => [q.id, q.name]))
  if (props.workers.length === 0) return <p class="muted">No workers registered.</p>
  return (
    <table class="workers">
      <thead>
        <tr>
          <th>Worker</th>
          <th>Queue</th>
          <th>Status</th>
          <th>Host / pid</th>
          <th>Last heartbeat</th>
          <th>Started</th>
          {props.actions && !v.readOnly ? <th>Actions</th> : null}
        </tr>
      </thead>
      <tbody>
        {props.workers.map((w) => {
          const stale = w.status !== 'stopped' && v.now - w.heartbeatAt.getTime() > STALE_MS
          const queue = w.queueId === null ? undefined : names.get(w.queueId)
          return (
            <tr data-worker={w.name}>
              <td class="mono">{w.name}</td>
              <td>
                {queue ? (
                  <a href={`${v.base}/queues/${encodeURIComponent(queue)}`}>{queue}</a>
                ) : (
                  '—'
                )}
              </td>
              <td>
                <Status status={w.status} />
                {stale ? <span class="stale"> stale</span> : null}
              </td>
              <td class="mono nowrap">{`${w.hostname} / ${w.pid}`}</td>
              <td>
                <When date={w.heartbeatAt} now={v.now} />
              </td>
              <td>
                <When date={w.startedAt} now={v.now} />
              </td>
              {props.actions && !v.readOnly ? (
                <td>
                  <WorkerActions v={v} w={w} />
                </td>
              ) : null}
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
