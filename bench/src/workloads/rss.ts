// Flat-RSS check (opt-in, `--rss`): one pgqrs worker (concurrency 50, batch 50) on Postgres handles
// a pre-filled backlog of N messages; the process RSS is sampled every `every` messages, and the
// V8 heap after a forced GC beside it (the child runs with --expose-gc). RSS alone rises while V8
// grows its heap lazily; a leak shows as a rising heap-after-GC line.
import { loadSystem } from '../systems/system.ts'
import type { Measurement } from '../types.ts'
import { waitUntil } from '../util.ts'
import { prepareDrain } from './drain.ts'
import { type Context, num, SUBJECTS, type Workload } from './workload.ts'

const mb = (bytes: number) => bytes / 1024 / 1024

async function measure(ctx: Context): Promise<Measurement> {
  const messages = num(ctx.params, 'messages')
  const every = num(ctx.params, 'every')
  const sys = (await loadSystem(ctx.subject.system)).open(ctx.target, ctx.subject)
  try {
    await sys.connect()
    const gc = (globalThis as { gc?: () => void }).gc
    const sample = (n: number): [number, number, number] => {
      const rssMb = mb(process.memoryUsage().rss)
      gc?.()
      return [n, rssMb, mb(process.memoryUsage().heapUsed)]
    }
    const samples = [sample(0)]
    let handled = 0
    const t0 = performance.now()
    const running = await sys.consume({
      consumers: 1,
      batch: 50,
      onMessage: () => {
        if (++handled % every === 0) samples.push(sample(handled))
      },
    })
    await waitUntil(() => handled >= messages, 'rss drain', 3_600_000, 20)
    const seconds = (performance.now() - t0) / 1000
    await running.stop()
    const values = samples.slice(1).map(([, v]) => v)
    const heaps = samples.slice(1).map(([, , h]) => h)
    return {
      value: Math.max(...values),
      extra: {
        first: values[0] ?? Number.NaN,
        last: values.at(-1) ?? Number.NaN,
        max: Math.max(...values),
        heapFirst: heaps[0] ?? Number.NaN,
        heapLast: heaps.at(-1) ?? Number.NaN,
        rate: handled / seconds,
        ...Object.fromEntries(samples.map(([n, v]) => [`rss ${n}`, v])),
        ...Object.fromEntries(samples.map(([n, , h]) => [`heap ${n}`, h])),
      },
    }
  } finally {
    await sys.close()
  }
}

export const rss: Workload = {
  id: 'rss',
  title: 'Flat-RSS check (pgqrs worker, Postgres)',
  method:
    'One `worker()` (concurrency 50, batch 50) handles a pre-filled backlog; `process.memoryUsage().rss` is sampled every `every` messages (the first sample before the worker starts), and `heapUsed` right after a forced GC (the child runs with `--expose-gc`): RSS includes heap V8 has grown but not yet collected, heap-after-GC is what is really retained. The second row runs the same child with `--max-semi-space-size=2` (MB): V8 then keeps a small young generation instead of growing it to its default maximum under a high allocation rate, which is most of the RSS above the heap; the samples below are those of the first row.',
  columns: ['messages', 'node flags'],
  metric: { name: 'max RSS MB', unit: 'MB', higherIsBetter: false },
  extras: [
    { key: 'first', header: 'first MB', digits: 1 },
    { key: 'last', header: 'last MB', digits: 1 },
    { key: 'heapFirst', header: 'heap after GC, first MB', digits: 1 },
    { key: 'heapLast', header: 'heap after GC, last MB', digits: 1 },
    { key: 'rate', header: 'msg/s' },
  ],
  peers: false,
  rows(o) {
    return [[], ['--max-semi-space-size=2']].map((flags, i) => ({
      key: i === 0 ? 'rss' : 'rss-small-young',
      cells: { messages: String(o.rssMessages), 'node flags': flags.join(' ') || 'defaults' },
      params: { messages: o.rssMessages, every: o.rssEvery, capS: 3600 },
      subjects: [SUBJECTS.pgqrsWorker],
      timeoutMs: 3_600_000,
      execArgv: ['--expose-gc', ...flags],
    }))
  },
  prepare: (ctx) => prepareDrain(ctx),
  measure,
}
