// (f) Drain by worker processes, timed from spawn: the shapes of issue 17. The backlog is inserted
// first (not timed); then P worker processes are spawned and the clock runs from the spawn until
// the database holds no unacknowledged message, so each process's start-up (Node, imports,
// connect, checks, registration, LISTEN) counts, as it does when a deployment scales up.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ProcReport, ProcTask } from '../proc-worker.ts'
import { loadSystem } from '../systems/system.ts'
import type { Measurement, Subject } from '../types.ts'
import { waitUntil } from '../util.ts'
import { prepareDrain } from './drain.ts'
import { type Context, num, type Row, SUBJECTS, type Workload } from './workload.ts'

const PROC = fileURLToPath(new URL('../proc-worker.ts', import.meta.url))
const now = () => performance.timeOrigin + performance.now()

/** What each system gets ahead of its handlers: graphile's local queue, pgqrs's prefetch. */
function prefetchOf(subject: Subject, ctx: Context): number | undefined {
  const p = ctx.params
  if (subject.system === 'graphile-worker') return p.localQueue ? num(p, 'localQueue') : undefined
  if (subject.system === 'pgqrs') return p.prefetch ? num(p, 'prefetch') : 0
  return undefined
}

export async function measureSpawn(ctx: Context): Promise<Measurement> {
  const messages = num(ctx.params, 'messages')
  const procs = num(ctx.params, 'procs')
  const capMs = num(ctx.params, 'capS') * 1000
  const sys = (await loadSystem(ctx.subject.system)).open(ctx.target, ctx.subject)
  await sys.connect() // the parent's connection counts what is left; not the workers'
  const task: ProcTask = {
    subject: ctx.subject,
    target: ctx.target,
    batch: num(ctx.params, 'batch'),
    concurrency: num(ctx.params, 'concurrency'),
    prefetch: prefetchOf(ctx.subject, ctx),
  }
  const reports: (ProcReport | null)[] = Array.from({ length: procs }, () => null)
  const exited: Promise<void>[] = []
  const t0 = now()
  const children = Array.from({ length: procs }, (_, i) => {
    const child = fork(PROC, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NO_LOG_SUCCESS: '1', PGQRS_BENCH_TASK: JSON.stringify(task) },
    })
    child.on('message', (m) => {
      reports[i] = m as ProcReport
    })
    exited.push(new Promise((r) => child.once('exit', () => r())))
    return child
  })
  try {
    const handled = () => reports.reduce((n, r) => n + (r?.handled ?? 0), 0)
    const elapsed = () => now() - t0
    await waitUntil(() => handled() >= messages || elapsed() > capMs, 'drain', capMs + 60_000, 5)
    const capped = handled() < messages
    if (!capped) await waitUntil(async () => (await sys.remaining()) === 0, 'acks', 60_000, 5)
    const seconds = elapsed() / 1000
    const got = handled()
    for (const c of children) c.send('stop')
    const killer = setTimeout(() => {
      for (const c of children) c.kill('SIGKILL')
    }, 20_000)
    await Promise.all(exited)
    clearTimeout(killer)
    const done = reports.filter((r) => r !== null)
    const firsts = done.map((r) => r.first).filter((f) => f !== null)
    const startToFirst = done.filter((r) => r.first !== null).map((r) => r.first! - r.startCalled)
    return {
      value: (capped ? got : messages) / seconds,
      extra: {
        seconds,
        handled: got,
        // spawn → the first message handled by any process (Node start, imports, start-up)
        firstMs: firsts.length ? Math.min(...firsts) - t0 : Number.NaN,
        // the system's own start (consume(): connect, checks, registration, LISTEN) → first message
        startFirstMs: startToFirst.length ? Math.min(...startToFirst) : Number.NaN,
        workerRss: Math.max(0, ...done.map((r) => r.final?.maxRssMb ?? 0)),
      },
      ...(capped
        ? { note: `capped: ${got} of ${messages} handled in ${seconds.toFixed(1)} s` }
        : got > messages
          ? { note: `${got - messages} duplicate deliveries` }
          : {}),
    }
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    await sys.close()
  }
}

const SUBJECTS_F = [SUBJECTS.pgqrsWorker, SUBJECTS.graphile, SUBJECTS.pgBoss, SUBJECTS.pgqrsSql]

export const spawn: Workload = {
  id: 'f',
  title: '(f) Drain by worker processes, timed from spawn',
  method:
    'A backlog of N messages is inserted first (not timed), in a fresh schema per measurement. Then P worker processes are spawned (`child_process.fork`, one system each) and the clock runs from the spawn until the database holds no unacknowledged message, so every process\'s start-up counts. **Batched**: pgqrs `worker({ concurrency: 50, batchSize: 50, prefetch })`; graphile-worker `concurrency: 50`, `localQueue: { size: 500 }`, batched completes (`completeJobBatchDelay: 0`); pg-boss `batchSize: 50`. **Unbatched**: pgqrs `worker({ concurrency: 24, batchSize: 1 })`; graphile-worker `concurrency: 24`, no local queue; pg-boss `batchSize: 1, localConcurrency: 24`. **pure SQL ceiling**: pgqrs\'s own claim-and-archive function (`pgqrs_settle_dequeue`, what the worker sends per batch) in a loop over plain `pg`, as many loops per process as the pgqrs worker has claim lanes, no library around it. "first ms": spawn → first message handled; "start → first ms": the system\'s start call (connect, checks, registration, LISTEN) → first message, in the process that got there first.',
  columns: ['messages', 'processes', 'shape'],
  metric: { name: 'msg/s', unit: 'msg/s', higherIsBetter: true },
  extras: [
    { key: 'seconds', header: 'seconds', digits: 2 },
    { key: 'firstMs', header: 'first ms', digits: 0 },
    { key: 'startFirstMs', header: 'start → first ms', digits: 0 },
    { key: 'workerRss', header: 'worker RSS MB', digits: 0 },
  ],
  peers: true,
  rows(o) {
    const scale = o.quick ? 10 : 1
    const batched = (n: number, procs: number): Row => ({
      key: `f-p${procs}-b50-${n}`,
      cells: {
        messages: n.toLocaleString('en-US'),
        processes: String(procs),
        shape: 'batch 50 (graphile: localQueue 500)',
      },
      params: {
        messages: n,
        procs,
        batch: 50,
        concurrency: 50,
        prefetch: o.prefetch,
        localQueue: 500,
        capS: o.drainCapS,
      },
      subjects: SUBJECTS_F,
      timeoutMs: (o.drainCapS + 120) * 1000,
    })
    return [
      batched(200_000 / scale, 4),
      batched(50_000 / scale, 4),
      {
        key: `f-p2-c24-b1-${20_000 / scale}`,
        cells: {
          messages: (20_000 / scale).toLocaleString('en-US'),
          processes: '2',
          shape: 'concurrency 24, batch 1',
        },
        params: {
          messages: 20_000 / scale,
          procs: 2,
          batch: 1,
          concurrency: 24,
          capS: o.drainCapS,
        },
        subjects: SUBJECTS_F,
        timeoutMs: (o.drainCapS + 120) * 1000,
      },
      {
        key: 'f-startup-100',
        cells: { messages: '100', processes: '1', shape: 'start-up: batch 50' },
        params: {
          messages: 100,
          procs: 1,
          batch: 50,
          concurrency: 50,
          prefetch: o.prefetch,
          localQueue: 500,
          capS: o.drainCapS,
        },
        subjects: SUBJECTS_F,
        timeoutMs: (o.drainCapS + 120) * 1000,
      },
    ]
  },
  prepare: prepareDrain,
  measure: measureSpawn,
}
