// `pnpm soak:crash --cycles 1000` (outside CI): SIGKILLs a workflow worker process at a random
// moment, again and again, with a new worker taking over each time, while runs keep coming. The
// soak workflow has a step with a side effect outside the database (a, c: each execution recorded
// on its own connection) and a transactional step (b: inserts one row in the step's transaction).
// At the end a last worker finishes everything, and the report counts: completed steps executed
// again (an execution that began after the step's completion was committed: target 0), runs
// with more than one transactional row (0), runs not SUCCESS (0), messages not archived (0), and
// the takeover time of each run the killed worker held (kill → a new worker enters that run).
// Writes docs/crash-soak.md.
import { type ChildProcess, fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { PostgresStore } from '@pgqrs/store-postgres'
import pg from 'pg'
import { defineWorkflow } from 'pgqrs'
import { sleep } from '../util.ts'
import type { CrashMsg, Phase } from './crash-worker.ts'

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '1000' },
    'max-delay': { type: 'string', default: '600' },
    out: { type: 'string', default: resolve(import.meta.dirname, '../../../docs/crash-soak.md') },
  },
})
const CYCLES = Number(values.cycles)
const MAX_DELAY = Number(values['max-delay'])
const DB_URL = process.env.PGQRS_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
const WORKER = fileURLToPath(new URL('./crash-worker.ts', import.meta.url))
const schema = `pgqrs_soak_crash_${process.pid}`
const workflow = 'soak_crash'
const now = () => performance.now()

// Every SIGKILL costs each run the killed worker held one delivery; with the default budget (5) a
// run held by five killed workers in a row is dead-lettered by design, which is not what this soak
// measures: its runs get a budget no soak length exhausts.
const MAX_DELIVERIES = 100_000
const store = new PostgresStore({ connectionString: DB_URL, schema, maxAttempts: MAX_DELIVERIES })
await store.migrate()
const admin = new pg.Client({ connectionString: DB_URL })
await admin.connect()
await admin.query(`create table "${schema}".soak_exec (run_id bigint, step text, pid int,
  at timestamptz not null default clock_timestamp())`)
await admin.query(`create table "${schema}".soak_tx (run_id bigint, pid int)`)
const def = defineWorkflow({ name: workflow, run: async (_ctx, _input: { n: number }) => null })
await def.ensure(store)
let started = 0
async function topUp(): Promise<void> {
  const r = await admin.query<{ n: string }>(
    `select count(*) as n from "${schema}".pgqrs_runs where status in ('QUEUED', 'RUNNING')`,
  )
  for (let i = Number(r.rows[0]!.n); i < 24; i++) await def.start(store, { n: started++ })
}

interface Spawned {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  readonly exited: Promise<void>
  phase: Phase
  readonly held: Set<number>
}
/** Each run's pending takeover: when its holder was killed. */
const orphaned = new Map<number, number>()
const takeovers: number[] = []
const phases: Record<Phase, number> = { idle: 0, step: 0, between: 0, 'tx-step': 0, settle: 0 }

function spawnWorker(): Spawned {
  const child = fork(WORKER, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, PGQRS_SOAK: JSON.stringify({ url: DB_URL, schema, workflow }) },
  })
  let ready!: () => void
  const s: Spawned = {
    child,
    ready: new Promise<void>((r) => {
      ready = r
    }),
    exited: new Promise<void>((r) => child.once('exit', () => r())),
    phase: 'idle',
    held: new Set(),
  }
  child.on('message', (m: CrashMsg) => {
    if (m.type === 'started') return ready()
    if (m.type === 'enter') {
      s.held.add(m.runId)
      const killedAt = orphaned.get(m.runId)
      if (killedAt !== undefined) {
        takeovers.push(now() - killedAt)
        orphaned.delete(m.runId)
      }
      return
    }
    s.phase = m.phase
    if (m.phase === 'settle') s.held.delete(m.runId)
  })
  return s
}

const t0 = now()
let previous: Spawned | null = null
for (let cycle = 1; cycle <= CYCLES; cycle++) {
  await topUp()
  const w = spawnWorker()
  await Promise.race([w.ready, w.exited])
  await sleep(Math.random() * MAX_DELAY)
  phases[w.phase]++
  const killedAt = now()
  w.child.kill('SIGKILL')
  await w.exited
  for (const runId of w.held) if (!orphaned.has(runId)) orphaned.set(runId, killedAt)
  previous = w
  if (cycle % 25 === 0 || cycle === CYCLES)
    console.log(
      `cycle ${cycle}/${CYCLES}: ${started} runs started, ${takeovers.length} takeovers, ${((now() - t0) / 1000).toFixed(0)} s`,
    )
}
void previous

// A last worker finishes everything.
const last = spawnWorker()
await last.ready
const deadline = now() + 120_000
let open = Number.POSITIVE_INFINITY
while (now() < deadline) {
  const r = await admin.query<{ n: string }>(
    `select count(*) as n from "${schema}".pgqrs_runs where status <> 'SUCCESS'`,
  )
  open = Number(r.rows[0]!.n)
  if (open === 0) break
  await sleep(200)
}
last.child.send('stop')
await last.exited

const one = async (q: string) => Number((await admin.query<{ n: string }>(q)).rows[0]!.n)
const s = `"${schema}"`
const completedTwice = await one(`select count(*) as n from ${s}.soak_exec e
  join ${s}.pgqrs_steps st on st.run_id = e.run_id and st.step_key = e.step
  where st.status = 'SUCCESS' and e.at > st.completed_at`)
const reExecuted = await one(`select coalesce(sum(c - 1), 0) as n from (select count(*) as c
  from ${s}.soak_exec group by run_id, step) x`)
const txDup = await one(
  `select count(*) as n from (select run_id from ${s}.soak_tx group by run_id having count(*) > 1) x`,
)
const txMissing = await one(`select count(*) as n from ${s}.pgqrs_runs r
  where not exists (select 1 from ${s}.soak_tx t where t.run_id = r.id)`)
const runs = await one(`select count(*) as n from ${s}.pgqrs_runs`)
const byStatus = (
  await admin.query<{ status: string; n: string }>(
    `select status, count(*) as n from ${s}.pgqrs_runs group by status order by status`,
  )
).rows
  .map((r) => `${r.status} ${r.n}`)
  .join(', ')
const m = await store.queues.metrics(workflow)
const notArchived = m ? m.pending + m.leased + m.delayed + m.dead : -1
await store.close()
await admin.query(`drop schema ${s} cascade`)
await admin.end()

const sorted = [...takeovers].sort((a, b) => a - b)
const q = (p: number) =>
  sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(0)
    : '–'
const seconds = (now() - t0) / 1000
const md = `# Crash soak

Generated by \`pnpm soak:crash --cycles ${CYCLES}\` on ${new Date().toISOString()} (not part of CI;
${seconds.toFixed(0)} s). Each cycle spawns a workflow worker process (\`workflowWorker\`, concurrency 4,
lease 1 s) over a supply of runs kept at 24 queued or running, lets it work for a random 0–${MAX_DELAY} ms
after its \`start()\`, and SIGKILLs it; the next cycle's worker takes over. Runs are started with
\`maxAttempts: ${MAX_DELIVERIES}\` (each SIGKILL costs the runs the worker held one delivery; with the
default of 5 a run held by five killed workers in a row is dead-lettered by design). The workflow: step \`a\`
(a side effect on a connection of its own, recorded with its clock time), step \`b\` (transactional:
one row inserted in the step's transaction), step \`c\` (as \`a\`). A last worker then finishes
every run. Source: \`bench/src/soak/crash.ts\`.

| check | result | target |
|---|---|---|
| cycles (SIGKILLs) | ${CYCLES} | |
| runs started | ${runs} | |
| kills by where the worker was (last phase it reported) | ${Object.entries(phases)
  .map(([k, v]) => `${k} ${v}`)
  .join(', ')} | |
| completed steps executed again (an execution that began after the step's completion committed) | **${completedTwice}** | 0 |
| transactional rows duplicated (runs with more than one \`b\` row) | **${txDup}** | 0 |
| runs without their \`b\` row | **${txMissing}** | 0 |
| runs lost or stuck (not SUCCESS 120 s after the last kill) | **${open}** | 0 |
| messages lost or not archived (pending + leased + delayed + dead) | **${notArchived}** (dead ${m?.dead ?? '?'}) | 0 |
| runs by status at the end | ${byStatus} | |
| interrupted steps run again (at-least-once, allowed) | ${reExecuted} | |
| takeovers (a killed worker's run entered by a new worker) | ${takeovers.length} | |
| takeover time p50 / p90 / max, ms (kill → entered again; includes the 1 s lease running out and the new process starting) | ${q(0.5)} / ${q(0.9)} / ${q(1)} | |
`
writeFileSync(values.out!, md)
console.log(md)
