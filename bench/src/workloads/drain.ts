// (a) Drain a pre-filled backlog. The clock starts when the consumers are started (each system's
// client is connected and its tables exist before that) and stops when the database holds no
// unacknowledged message: throughput = messages / drain wall time. Filling is not timed.
import { loadSystem } from '../systems/system.ts'
import type { Measurement } from '../types.ts'
import { postgresCpuMs, waitUntil } from '../util.ts'
import { type Context, num, type Row, SUBJECTS, type Workload } from './workload.ts'

export async function prepareDrain(ctx: Context): Promise<void> {
  const sys = (await loadSystem(ctx.subject.system)).open(ctx.target, ctx.subject)
  try {
    await sys.install()
    await sys.fill(num(ctx.params, 'messages'))
  } finally {
    await sys.close()
  }
}

export async function measureDrain(ctx: Context): Promise<Measurement> {
  const messages = num(ctx.params, 'messages')
  const capMs = num(ctx.params, 'capS') * 1000
  const sys = (await loadSystem(ctx.subject.system)).open(ctx.target, ctx.subject)
  try {
    await sys.connect()
    let handled = 0
    const cpu0 = process.cpuUsage()
    const db0 = ctx.target.backend === 'postgres' ? postgresCpuMs() : null
    const t0 = performance.now()
    const running = await sys.consume({
      consumers: num(ctx.params, 'consumers'),
      batch: num(ctx.params, 'batch'),
      onMessage: () => {
        handled++
      },
    })
    const elapsed = () => performance.now() - t0
    await waitUntil(() => handled >= messages || elapsed() > capMs, 'drain', capMs + 60_000, 2)
    const capped = handled < messages
    // Handlers have run; the drain ends when the last acknowledgement is committed.
    if (!capped) await waitUntil(async () => (await sys.remaining()) === 0, 'acks', 60_000, 5)
    const seconds = elapsed() / 1000
    const cpu = process.cpuUsage(cpu0)
    const db1 = db0 === null ? null : postgresCpuMs()
    await running.stop()
    return {
      value: (capped ? handled : messages) / seconds,
      extra: {
        seconds,
        handled,
        cpu: (cpu.user + cpu.system) / Math.max(1, handled),
        ...(db0 !== null && db1 !== null
          ? { db: ((db1 - db0) * 1000) / Math.max(1, handled) }
          : {}),
      },
      ...(capped
        ? { note: `capped: ${handled} of ${messages} handled in ${seconds.toFixed(1)} s` }
        : handled > messages
          ? { note: `${handled - messages} duplicate deliveries` }
          : {}),
    }
  } finally {
    await sys.close()
  }
}

export const drain: Workload = {
  id: 'a',
  title: '(a) Backlog drain',
  method:
    'A backlog of N messages is inserted with each system\'s bulk insert (not timed). Then the consumers start; the clock stops when the database holds no unacknowledged message. Throughput = N / drain wall time. Handlers do nothing but count. "client CPU" is the user + system CPU time of the measuring process during the drain, per message (the machine\'s cores are shared with PostgreSQL); "database CPU" is the CPU time all PostgreSQL processes of the machine used meanwhile, per message (from /proc; it includes the little the other idle systems cost, and leaves out backends that exited during the drain). Rows with "capped" stopped at the time cap and report the rate reached.',
  columns: ['consumers', 'batch'],
  metric: { name: 'msg/s', unit: 'msg/s', higherIsBetter: true },
  extras: [
    { key: 'cpu', header: 'client CPU µs/msg', digits: 0 },
    { key: 'db', header: 'database CPU µs/msg', digits: 0 },
  ],
  peers: true,
  rows(o) {
    const rows: Row[] = []
    for (const c of o.consumers) {
      for (const b of o.batches) {
        rows.push({
          key: `c${c}-b${b}`,
          cells: { consumers: String(c), batch: String(b) },
          params: { consumers: c, batch: b, messages: o.messages, capS: o.drainCapS },
          subjects: [
            SUBJECTS.pgqrsLoop,
            SUBJECTS.pgqrsWorker,
            SUBJECTS.pgqrsWorkerDelete,
            SUBJECTS.pgqrsWorkerUntraced,
            SUBJECTS.pgBoss,
            SUBJECTS.graphile,
          ],
          timeoutMs: (o.drainCapS + 120) * 1000,
        })
      }
    }
    return rows
  },
  prepare: prepareDrain,
  measure: measureDrain,
}
