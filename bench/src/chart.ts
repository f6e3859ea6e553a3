// A small grouped-bar-chart SVG writer: panels stacked vertically, each with its own linear axis,
// a legend, and the value printed above each bar.

export interface Bar {
  readonly series: string
  readonly value: number
}

export interface Group {
  readonly label: string
  readonly bars: readonly Bar[]
}

export interface Panel {
  readonly title: string
  readonly unit: string
  readonly groups: readonly Group[]
}

const COLORS: Record<string, string> = {
  'pgqrs (loop)': '#1f4e9c',
  'pgqrs (worker)': '#5b8fd9',
  'pg-boss': '#e08a2c',
  'graphile-worker': '#3a9a5b',
}
const EXTRA = [
  '#8e5bb5',
  '#c2577a',
  '#6b7b8c',
  '#b59b2b',
  '#2aa3a3',
  '#7d5a3c',
  '#d4524a',
  '#4a6fd4',
  '#5fa83a',
  '#a84a9c',
]

const WIDTH = 960
const PANEL_H = 300
const LEFT = 70
const RIGHT = 20
const TOP = 56
const BOTTOM = 40

const esc = (s: string) =>
  s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')

function short(v: number): string {
  if (!Number.isFinite(v)) return '–'
  if (v === 0) return '0'
  if (v >= 10_000) return `${(v / 1000).toFixed(v >= 100_000 ? 0 : 1)}k`
  if (v >= 100) return String(Math.round(v))
  if (v >= 10) return v.toFixed(1)
  return v.toFixed(2)
}

/** A "nice" axis maximum (1, 2 or 5 × 10^k) at or above `v`. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

function panel(p: Panel, y0: number, color: (s: string) => string): string {
  const out: string[] = []
  const plotW = WIDTH - LEFT - RIGHT
  const plotH = PANEL_H - TOP - BOTTOM
  const series = [...new Set(p.groups.flatMap((g) => g.bars.map((b) => b.series)))]
  const max = niceMax(
    Math.max(0, ...p.groups.flatMap((g) => g.bars.map((b) => b.value)).filter(Number.isFinite)),
  )
  const yOf = (v: number) => y0 + TOP + plotH - (v / max) * plotH
  out.push(
    `<text x="${LEFT}" y="${y0 + 20}" font-size="15" font-weight="bold">${esc(p.title)}</text>`,
  )
  let lx = LEFT
  for (const s of series) {
    out.push(`<rect x="${lx}" y="${y0 + 30}" width="12" height="12" fill="${color(s)}"/>`)
    out.push(`<text x="${lx + 16}" y="${y0 + 40}" font-size="12">${esc(s)}</text>`)
    lx += 24 + s.length * 7
  }
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4
    const y = yOf(v)
    out.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y}" y2="${y}" stroke="#ddd"/>`)
    out.push(
      `<text x="${LEFT - 6}" y="${y + 4}" font-size="11" text-anchor="end">${short(v)}</text>`,
    )
  }
  out.push(
    `<text x="14" y="${y0 + TOP + plotH / 2}" font-size="11" transform="rotate(-90 14 ${y0 + TOP + plotH / 2})" text-anchor="middle">${esc(p.unit)}</text>`,
  )
  const groupW = plotW / Math.max(1, p.groups.length)
  for (const [gi, g] of p.groups.entries()) {
    const gx = LEFT + gi * groupW
    const barW = Math.min(48, (groupW * 0.8) / Math.max(1, g.bars.length))
    const start = gx + (groupW - barW * g.bars.length) / 2
    for (const [bi, b] of g.bars.entries()) {
      const x = start + bi * barW
      const v = Number.isFinite(b.value) ? b.value : 0
      const y = yOf(v)
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(y0 + TOP + plotH - y).toFixed(1)}" fill="${color(b.series)}"><title>${esc(`${b.series}: ${short(b.value)} ${p.unit}`)}</title></rect>`,
      )
      out.push(
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y - 3).toFixed(1)}" font-size="10" text-anchor="middle">${short(b.value)}</text>`,
      )
    }
    out.push(
      `<text x="${(gx + groupW / 2).toFixed(1)}" y="${y0 + TOP + plotH + 18}" font-size="12" text-anchor="middle">${esc(g.label)}</text>`,
    )
  }
  out.push(
    `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y0 + TOP + plotH}" y2="${y0 + TOP + plotH}" stroke="#333"/>`,
  )
  return out.join('\n')
}

/** The whole chart: one panel under the other. */
export function chartSvg(panels: readonly Panel[]): string {
  const extra = new Map<string, string>()
  const color = (s: string) => {
    const fixed = COLORS[s]
    if (fixed) return fixed
    if (!extra.has(s)) extra.set(s, EXTRA[extra.size % EXTRA.length]!)
    return extra.get(s)!
  }
  const height = panels.length * PANEL_H + 10
  const body = panels.map((p, i) => panel(p, i * PANEL_H, color)).join('\n')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${body}
</svg>
`
}
