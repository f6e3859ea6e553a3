import type { RunRecord, StepRecord } from '@pgqrs/core'
import { Status, When } from './components.js'
import { duration, iso, pretty, preview } from './format.js'
import { Json } from './json.js'
import type { ViewContext } from './layout.js'

/** A step as the timeline draws it. */
export interface StepSpan {
  readonly step: StepRecord
  /** A durable sleep (`ctx.sleep`): its stored output is `{ wakeAt }`. */
  readonly sleepUntil: number | null
  readonly start: number
  readonly end: number
  /** Attempts so far: the failed ones plus the current or successful one. */
  readonly attempts: number
}

/** The wake time of a sleep step, or null for an ordinary step. */
export function sleepUntil(step: StepRecord): number | null {
  const out = step.output
  if (step.status !== 'SUCCESS' || typeof out !== 'object' || out === null) return null
  const keys = Object.keys(out)
  const wakeAt = (out as { wakeAt?: unknown }).wakeAt
  return keys.length === 1 && typeof wakeAt === 'number' ? wakeAt : null
}

/** Where each step starts and ends, for the bars (a running step ends now). */
export function stepSpans(steps: readonly StepRecord[], now: number): StepSpan[] {
  return steps.map((step) => {
    const start = (step.startedAt ?? step.createdAt).getTime()
    const wake = sleepUntil(step)
    const end = wake ?? step.completedAt?.getTime() ?? (step.status === 'RUNNING' ? now : start)
    const attempts = step.retryCount + (step.status === 'ERROR' ? 0 : 1)
    return { step, sleepUntil: wake, start, end: Math.max(start, end), attempts }
  })
}

const W = 900
const LABEL = 180
const ROW = 22

/** The steps of a run as bars on one time axis, from the run's start to its end (or now). */
export function TimelineChart(props: { run: RunRecord; spans: readonly StepSpan[]; now: number }) {
  const { spans } = props
  if (spans.length === 0) return <p class="muted">No steps recorded yet.</p>
  const t0 = Math.min(
    (props.run.startedAt ?? props.run.createdAt).getTime(),
    ...spans.map((s) => s.start),
  )
  const t1 = Math.max(
    props.run.completedAt?.getTime() ?? props.now,
    ...spans.map((s) => s.end),
    t0 + 1,
  )
  const x = (t: number) => LABEL + ((t - t0) / (t1 - t0)) * (W - LABEL - 10)
  const h = spans.length * ROW + 24
  return (
    <div class="panel timeline">
      <svg viewBox={`0 0 ${W} ${h}`} role="img" aria-label="Step timeline">
        <title>Step timeline</title>
        <line class="grid" x1={LABEL} y1={0} x2={LABEL} y2={h - 18} />
        <text x={LABEL} y={h - 4}>
          0
        </text>
        <text x={W - 10} y={h - 4} text-anchor="end">
          {duration(t1 - t0)}
        </text>
        {spans.map((s, i) => {
          const kind = s.sleepUntil !== null ? 'sleep' : s.step.status.toLowerCase()
          const label =
            s.step.stepKey.length > 26 ? `${s.step.stepKey.slice(0, 25)}…` : s.step.stepKey
          return (
            <g>
              <text x={4} y={i * ROW + 15}>
                {label}
              </text>
              <rect
                class={`bar-${kind}`}
                x={x(s.start).toFixed(1)}
                y={i * ROW + 4}
                width={Math.max(2, x(s.end) - x(s.start)).toFixed(1)}
                height={ROW - 8}
                rx="2"
              >
                <title>{`${s.step.stepKey}: ${kind}, ${duration(s.end - s.start)}`}</title>
              </rect>
            </g>
          )
        })}
      </svg>
      <p class="legend">
        <span>green: done</span> <span>red: failed</span> <span>blue: running</span>{' '}
        <span>amber: sleep</span>
      </p>
    </div>
  )
}

/** The steps of a run as a table: attempts, timings, outputs and errors (full text on demand). */
export function StepTable(props: { v: ViewContext; spans: readonly StepSpan[] }) {
  const { v } = props
  if (props.spans.length === 0) return null
  return (
    <table class="steps">
      <thead>
        <tr>
          <th>Step</th>
          <th>Status</th>
          <th class="num">Attempts</th>
          <th>Started</th>
          <th class="num">Took</th>
          <th>Output / error</th>
        </tr>
      </thead>
      <tbody>
        {props.spans.map((s) => {
          const st = s.step
          const value = st.status === 'ERROR' ? st.error : st.output
          return (
            <tr data-step={st.stepKey}>
              <td class="mono">{st.stepKey}</td>
              <td>
                <Status status={s.sleepUntil !== null ? 'SLEEP' : st.status} />
                {st.retryAt ? (
                  <div class="note">
                    retry <When date={st.retryAt} now={v.now} />
                  </div>
                ) : null}
                {s.sleepUntil !== null ? (
                  <div class="note" title={iso(new Date(s.sleepUntil))}>
                    until <When date={new Date(s.sleepUntil)} now={v.now} />
                  </div>
                ) : null}
              </td>
              <td class="num">{s.attempts}</td>
              <td>
                <When date={st.startedAt ?? st.createdAt} now={v.now} />
              </td>
              <td class="num">
                {st.completedAt || st.status === 'RUNNING' ? duration(s.end - s.start) : '—'}
              </td>
              <td class="mono">
                {value === null || value === undefined ? (
                  ''
                ) : (
                  <details>
                    <summary>{preview(value, 70)}</summary>
                    <Json value={pretty(value)} />
                  </details>
                )}
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
