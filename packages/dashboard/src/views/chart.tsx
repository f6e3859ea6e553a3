import type { RatePoint } from '../sampler.js'
import { duration } from './format.js'

/** One line of a {@link RateChart}. */
export interface Series {
  /** CSS class of the line (`s1`, `s2`, `s3`) and of its legend key (`k1`, …). */
  readonly key: 1 | 2 | 3
  readonly label: string
  /** The value at a point; null leaves a gap. */
  readonly value: (p: RatePoint) => number | null
}

const W = 600
const H = 150
const LEFT = 48
const RIGHT = 8
const TOP = 8
const BOTTOM = 20

/** A round number at least `n` (1, 2, 5 × 10^k), so the axis reads well. */
export function niceMax(n: number): number {
  if (!(n > 0)) return 1
  const p = 10 ** Math.floor(Math.log10(n))
  return ([1, 2, 5, 10].find((m) => m * p >= n) ?? 10) * p
}

/** The polyline segments of one series (a null value ends a segment). */
function segments(
  points: readonly RatePoint[],
  s: Series,
  x: (at: number) => number,
  y: (v: number) => number,
): string[] {
  const out: string[] = []
  let current: string[] = []
  for (const p of points) {
    const v = s.value(p)
    if (v === null || !Number.isFinite(v)) {
      if (current.length > 0) out.push(current.join(' '))
      current = []
      continue
    }
    current.push(`${x(p.at).toFixed(1)},${y(v).toFixed(1)}`)
  }
  if (current.length > 0) out.push(current.join(' '))
  return out
}

/**
 * A line chart of rates over time as inline SVG (no script, no inline style: the colours come from
 * the stylesheet). `max` fixes the top of the axis (100 for percentages); otherwise it follows the data.
 */
export function RateChart(props: {
  title: string
  points: readonly RatePoint[]
  series: readonly Series[]
  format: (v: number) => string
  max?: number
  emptyText: string
}) {
  const { points } = props
  if (points.length < 2) {
    return (
      <div class="panel chart">
        <div class="title">{props.title}</div>
        <p class="note">{props.emptyText}</p>
      </div>
    )
  }
  const first = points[0]!.at
  const last = points.at(-1)!.at
  let top = 0
  for (const p of points) for (const s of props.series) top = Math.max(top, s.value(p) ?? 0)
  const max = props.max ?? niceMax(top)
  const x = (at: number) => LEFT + ((at - first) / Math.max(1, last - first)) * (W - LEFT - RIGHT)
  const y = (v: number) => TOP + (1 - Math.min(v, max) / max) * (H - TOP - BOTTOM)
  return (
    <div class="panel chart">
      <div class="title">{props.title}</div>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
        <title>{props.title}</title>
        <line class="axis" x1={LEFT} y1={TOP} x2={LEFT} y2={H - BOTTOM} />
        <line class="axis" x1={LEFT} y1={H - BOTTOM} x2={W - RIGHT} y2={H - BOTTOM} />
        <line class="axis" x1={LEFT} y1={TOP} x2={W - RIGHT} y2={TOP} stroke-dasharray="2 3" />
        <text x={LEFT - 4} y={TOP + 4} text-anchor="end">
          {props.format(max)}
        </text>
        <text x={LEFT - 4} y={H - BOTTOM} text-anchor="end">
          0
        </text>
        <text x={LEFT} y={H - 4}>{`${duration(last - first)} ago`}</text>
        <text x={W - RIGHT} y={H - 4} text-anchor="end">
          now
        </text>
        {props.series.flatMap((s) =>
          segments(points, s, x, y).map((pts) => <polyline class={`s${s.key}`} points={pts} />),
        )}
      </svg>
      <div class="legend">
        {props.series.map((s) => (
          <span class={`k${s.key}`}>{s.label}</span>
        ))}
      </div>
    </div>
  )
}

/** Throughput and failure-rate charts over the sampler's history. */
export function ThroughputCharts(props: { points: readonly RatePoint[]; intervalMs: number }) {
  const empty = `Collecting samples (one every ${duration(props.intervalMs)} while the dashboard is open)…`
  const rate = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)}/s`
  return (
    <div class="charts">
      <RateChart
        title="Throughput (messages per second)"
        points={props.points}
        series={[
          { key: 1, label: 'handled (archived)', value: (p) => p.throughput },
          { key: 2, label: 'enqueued', value: (p) => p.enqueued },
        ]}
        format={rate}
        emptyText={empty}
      />
      <RateChart
        title="Failure rate (dead letters / finished)"
        points={props.points}
        series={[
          {
            key: 3,
            label: 'failure rate',
            value: (p) => (p.failureRate === null ? null : p.failureRate * 100),
          },
        ]}
        format={(v) => `${Math.round(v)}%`}
        max={100}
        emptyText={empty}
      />
    </div>
  )
}
