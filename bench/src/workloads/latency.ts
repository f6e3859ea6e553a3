// (c) Enqueue → handler-start latency with idle workers: one message at a time, through a producer
// connection of its own in the same process, then a random 20–50 ms pause so the worker is idle
// (waiting for a wake-up) when the next one arrives. The wake-up must come from LISTEN/NOTIFY:
// pgqrs keeps its default pollIntervalMs (1 000 ms), pg-boss polls every 0.5 s at best.
import { loadSystem } from '../systems/system.ts'
import { type Measurement, payload } from '../types.ts'
import { sleep } from '../util.ts'
import { type Context, num, SUBJECTS, type Workload } from './workload.ts'

const WARMUP = 10

async function prepare(ctx: Context): Promise<void> {
  const sys = (await loadSystem(ctx.subject.system)).open(ctx.target, ctx.subject)
  try {
    await sys.install()
  } finally {
    await sys.close()
  }
}

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

async function measure(ctx: Context): Promise<Measurement> {
  const samples = num(ctx.params, 'samples')
  const sys = (await loadSystem(ctx.subject.system)).open(ctx.target, ctx.subject)
  try {
    await sys.connect()
    let waiting: { i: number; resolve: (t: number) => void } | null = null
    const running = await sys.consume({
      consumers: 1,
      batch: 1,
      onMessage: (p) => {
        const now = performance.now()
        if (waiting && waiting.i === p.i) waiting.resolve(now)
      },
    })
    const latencies: number[] = []
    const enqueues: number[] = []
    for (let i = 0; i < WARMUP + samples; i++) {
      const started = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`message ${i} not handled in 30 s`)),
          30_000,
        )
        waiting = {
          i,
          resolve: (t) => {
            clearTimeout(timer)
            resolve(t)
          },
        }
      })
      const t0 = performance.now()
      await sys.enqueue([payload(i)])
      const tEnqueued = performance.now()
      const t1 = await started
      if (i >= WARMUP) {
        latencies.push(t1 - t0)
        enqueues.push(tEnqueued - t0)
      }
      await sleep(20 + Math.random() * 30)
    }
    await running.stop()
    const sorted = latencies.sort((a, b) => a - b)
    return {
      value: quantile(sorted, 0.5),
      extra: {
        p90: quantile(sorted, 0.9),
        p99: quantile(sorted, 0.99),
        max: sorted.at(-1)!,
        mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
        enqueue: quantile(
          enqueues.sort((a, b) => a - b),
          0.5,
        ),
      },
    }
  } finally {
    await sys.close()
  }
}

export const latency: Workload = {
  id: 'c',
  title: '(c) Enqueue → handler-start latency, idle workers',
  method: `One message at a time (after ${WARMUP} warm-up messages): the clock starts before the enqueue call on the producer's own connection and stops when the handler starts; then a random 20–50 ms pause leaves the worker idle. One consumer, batch 1. pgqrs keeps its default \`pollIntervalMs\` (1 000 ms), so its wake-ups come from LISTEN/NOTIFY; pg-boss has NOTIFY on for the queue; graphile-worker always LISTENs. Lower is better; the ratio is p50 ÷ best peer's p50. "enqueue call" is how long the producer's enqueue took to return (its commit included): the rest of the latency is the wake-up and the claim.`,
  columns: ['samples'],
  metric: { name: 'p50 ms', unit: 'ms', higherIsBetter: false },
  extras: [
    { key: 'p90', header: 'p90 ms', digits: 1 },
    { key: 'p99', header: 'p99 ms', digits: 1 },
    { key: 'max', header: 'max ms', digits: 1 },
    { key: 'enqueue', header: 'enqueue call p50 ms', digits: 1 },
  ],
  peers: true,
  rows(o) {
    return [
      {
        key: 'idle',
        cells: { samples: String(o.samples) },
        params: { samples: o.samples },
        subjects: [SUBJECTS.pgqrsWorker, SUBJECTS.pgBoss, SUBJECTS.graphile],
        timeoutMs: (o.samples * 0.3 + 180) * 1000,
      },
    ]
  },
  prepare,
  measure,
}
