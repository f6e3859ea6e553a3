// Writes docs/benchmarks.md (and the SVG chart beside it) from the results of a run.
import { mkdirSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { chartSvg, type Panel } from './chart.ts'
import type { MachineInfo } from './machine.ts'
import type { BenchOptions } from './options.ts'
import type { RowResult } from './runner.ts'
import { type Summary, summarize } from './summary.ts'
import { loadSystem } from './systems/system.ts'
import type { SystemName, WorkloadId } from './types.ts'
import { WORKLOADS } from './workloads/index.ts'

function fmt(v: number, digits?: number): string {
  if (!Number.isFinite(v)) return '–'
  if (digits !== undefined) return v.toFixed(digits)
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US')
  return v.toFixed(Math.abs(v) >= 10 ? 1 : 2)
}

const ratio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '–')

function table(id: WorkloadId, rows: Map<string, Summary[]>, reps: number): string {
  const w = WORKLOADS[id]
  const head = [
    ...w.columns,
    'system',
    `${w.metric.name} (median)`,
    'min–max',
    ...(w.peers ? [w.metric.higherIsBetter ? '÷ best peer' : '÷ best peer (lower is better)'] : []),
    ...w.extras.map((e) => e.header),
    'peak RSS MB',
    'notes',
  ]
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const summaries of rows.values()) {
    for (const s of summaries) {
      const notes = [...s.notes]
      if (s.failed) notes.push(`${s.failed} of ${s.failed + s.ok} runs failed`)
      if (s.ok && s.ok < reps) notes.push(`${s.ok} run${s.ok > 1 ? 's' : ''}`)
      const digits = w.metric.unit === 'ms' ? 1 : undefined
      const cells = [
        ...w.columns.map((c) => s.result.row.cells[c] ?? ''),
        s.result.subject.system === 'pgqrs'
          ? `**${s.result.subject.label}**`
          : s.result.subject.label,
        fmt(s.median, digits),
        s.ok > 1 ? `${fmt(s.min, digits)}–${fmt(s.max, digits)}` : '',
        ...(w.peers ? [ratio(s.ratio)] : []),
        ...w.extras.map((e) => fmt(s.extras[e.key] ?? Number.NaN, e.digits)),
        s.ok ? String(Math.round(s.rssMb)) : '–',
        notes.join('; '),
      ]
      lines.push(`| ${cells.join(' | ')} |`)
    }
  }
  return lines.join('\n')
}

function panels(all: Map<string, Map<string, Summary[]>>): Panel[] {
  const out: Panel[] = []
  const bars = (ss: Summary[], value: (s: Summary) => number) =>
    ss.map((s) => ({ series: s.result.subject.label, value: value(s) }))
  const label = (s: Summary) =>
    Object.entries(s.result.row.cells)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')
  const a = all.get('a')
  if (a) {
    out.push({
      title: '(a) Backlog drain, msg/s (higher is better)',
      unit: 'msg/s',
      groups: [...a.values()].map((ss) => ({
        label: `${ss[0]!.result.row.cells.consumers} × batch ${ss[0]!.result.row.cells.batch}`,
        bars: bars(ss, (s) => s.median),
      })),
    })
  }
  const b = all.get('b')
  if (b) {
    out.push({
      title: '(b) Steady producer → 4 consumers, consumed msg/s (higher is better)',
      unit: 'msg/s',
      groups: [...b.values()].map((ss) => ({
        label: label(ss[0]!),
        bars: bars(ss, (s) => s.median),
      })),
    })
  }
  const c = all.get('c')
  if (c) {
    const ss = [...c.values()][0]!
    out.push({
      title: '(c) Enqueue → handler start, idle workers, ms (lower is better)',
      unit: 'ms',
      groups: [
        { label: 'p50', bars: bars(ss, (s) => s.median) },
        { label: 'p90', bars: bars(ss, (s) => s.extras.p90 ?? Number.NaN) },
        { label: 'p99', bars: bars(ss, (s) => s.extras.p99 ?? Number.NaN) },
      ],
    })
  }
  const e = [...(all.get('e')?.values() ?? [])]
  const drains = e.filter((ss) => ss[0]!.result.row.params.kind === 'drain')
  if (drains.length) {
    out.push({
      title: '(e) pgqrs on SQLite / Turso files: drain at batch 50, msg/s',
      unit: 'msg/s',
      groups: drains.map((ss) => ({
        label: `${ss[0]!.result.row.cells.consumers} consumer(s)`,
        bars: bars(ss, (s) => s.median),
      })),
    })
  }
  const flows = [
    ...(all.get('d')?.values() ?? []),
    ...e.filter((ss) => ss[0]!.result.row.params.kind === 'workflow'),
  ].flat()
  if (flows.length) {
    out.push({
      title: '(d, e) pgqrs 3-step workflow, 4 runners × concurrency 8: runs/s',
      unit: 'runs/s',
      groups: [
        {
          label: 'runs/s (steps/s = 3 × runs/s)',
          bars: flows.map((s) => ({ series: s.result.subject.backend, value: s.median })),
        },
      ],
    })
  }
  return out
}

function command(o: BenchOptions): string {
  const env = process.env.PGQRS_BENCH_DATABASE_URL
    ? `PGQRS_BENCH_DATABASE_URL=${process.env.PGQRS_BENCH_DATABASE_URL.replace(/:[^:@/]*@/, ':***@')} `
    : ''
  return `${env}pnpm bench${o.argv.length ? ` ${o.argv.join(' ')}` : ''}`
}

export interface ReportInput {
  readonly options: BenchOptions
  readonly machine: MachineInfo
  readonly loadAtEnd: readonly number[]
  readonly started: Date
  readonly seconds: number
  readonly results: readonly RowResult[]
}

/** Writes the report and its chart; returns the report's path. */
export async function writeReport(input: ReportInput): Promise<string> {
  const { options: o, machine: m } = input
  const all = summarize(input.results)
  const svgName = `${basename(o.out, '.md')}.svg`
  mkdirSync(dirname(o.out), { recursive: true })
  writeFileSync(join(dirname(o.out), svgName), chartSvg(panels(all)))
  const pgs = m.postgres
  const load = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' / ')
  const md: string[] = [
    '# Benchmarks: pgqrs, pg-boss and graphile-worker',
    '',
    `Generated by \`pnpm bench\` (\`bench/\`) on ${input.started.toISOString().slice(0, 16).replace('T', ' ')} UTC in ${Math.round(input.seconds / 60)} min. Do not edit: run it again.`,
    '',
    'Run it from the repository root: `pnpm bench` (the full run, 3 repetitions; close to an hour on 2 cores, so on a quiet machine), `pnpm bench --quick` (about 2 minutes, to check that it works), `pnpm bench --only a,c`, `pnpm bench --rss` (adds the flat-RSS check), `pnpm bench --help` for every option. `PGQRS_BENCH_DATABASE_URL` picks the server (default `postgres://postgres@127.0.0.1:5432/postgres`); each system gets its own schema, dropped afterwards.',
    '',
  ]
  if (o.quick) {
    md.push(
      '> **Quick run** (`--quick`: small sizes, one repetition, fewer rows). These numbers only show that the',
      '> benchmark works end to end; compare systems with a full run (`pnpm bench`) on a quiet machine.',
      '',
    )
  }
  md.push(
    `Command: \`${command(o)}\``,
    '',
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${m.cpu}, ${m.cores} cores available |`,
    `| RAM | ${m.ramGb.toFixed(1)} GB |`,
    `| OS | ${m.os} |`,
    `| Node.js | ${m.node} |`,
    `| PostgreSQL | ${pgs.server_version} on the same machine; fsync ${pgs.fsync}, synchronous_commit ${pgs.synchronous_commit}, full_page_writes ${pgs.full_page_writes}, wal_level ${pgs.wal_level}, commit_delay ${pgs.commit_delay}, shared_buffers ${pgs.shared_buffers}, max_connections ${pgs.max_connections}, autovacuum ${pgs.autovacuum} |`,
    `| load average (1/5/15 min) | ${load(m.loadAtStart)} at the start, ${load(input.loadAtEnd)} at the end |`,
    '',
    '## Versions',
    '',
    '| package | version |',
    '|---|---|',
    `| pgqrs | ${m.versions.pgqrs} (commit ${m.pgqrsCommit}) |`,
    ...Object.entries(m.versions)
      .filter(([k]) => k !== 'pgqrs')
      .map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '## Method',
    '',
    `- Every measurement runs in **its own child process** (\`fork\`), one for preparing (install into a fresh schema or file, fill the backlog: never timed) and one for measuring; the schema is dropped (the file deleted) afterwards. "peak RSS" is \`process.resourceUsage().maxRSS\` of the measuring child (Node, the client library, its pool and the handlers), the highest over the repetitions.`,
    `- ${o.reps} repetition${o.reps > 1 ? 's' : ''}; the tables show the **median** and min–max. Systems are **interleaved**: within each repetition every row measures each system in turn, with the order rotated from row to row and repetition to repetition, so drift on the machine hits all of them alike.`,
    `- ${o.analyze ? '`--analyze`: ANALYZE ran on every table of the measurement between filling and measuring.' : 'No ANALYZE between filling and measuring (as after a sudden burst that autovacuum has not analyzed yet; see the autovacuum setting above). `--analyze` runs one for every system.'}`,
    '- One PostgreSQL server and database for all: each system in its own schema. Durability stays on (fsync, synchronous_commit as shown above). Payload of every message: `{ i, pad: "x".repeat(100) }`. Handlers only count.',
    '- "÷ best peer": the median divided by the best median among pg-boss and graphile-worker in the same row.',
    '',
    '## Configuration of each system',
    '',
  )
  for (const name of ['pgqrs', 'pg-boss', 'graphile-worker'] as SystemName[]) {
    md.push(`### ${name}`, '', ...(await loadSystem(name)).configuration.map((c) => `- ${c}`), '')
  }
  md.push(`![benchmark chart](${svgName})`, '')
  for (const id of [...o.only, ...(o.rss ? (['rss'] as const) : [])]) {
    const rows = all.get(id)
    if (!rows) continue
    const w = WORKLOADS[id]
    md.push(`## ${w.title}`, '', w.method, '', table(id, rows, o.reps), '')
    if (id === 'rss') md.push(rssSamples([...rows.values()][0]![0]!), '')
  }
  const failures = input.results.flatMap((r) =>
    r.runs
      .filter((x) => x.error)
      .map(
        (x) =>
          `- (${r.workload}) ${Object.values(r.row.cells).join(', ')} ${r.subject.label}, rep ${x.rep + 1}: ${x.error!.split('\n')[0]}`,
      ),
  )
  if (failures.length) md.push('## Failed measurements', '', ...failures, '')
  writeFileSync(o.out, md.join('\n'))
  return o.out
}

function rssSamples(s: Summary): string {
  const pts = Object.entries(s.extras)
    .filter(([k]) => k.startsWith('rss '))
    .map(([k, v]) => [Number(k.slice(4)), v, s.extras[`heap ${k.slice(4)}`] ?? Number.NaN] as const)
    .sort((a, b) => a[0] - b[0])
  return [
    '| messages handled | RSS MB | heap after GC MB |',
    '|---|---|---|',
    ...pts.map(
      ([n, v, h]) => `| ${n.toLocaleString('en-US')} | ${v.toFixed(1)} | ${h.toFixed(1)} |`,
    ),
  ].join('\n')
}
