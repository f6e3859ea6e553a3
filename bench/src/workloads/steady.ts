// (b) Steady producer → consumer throughput: one producer enqueues small batches as fast as its
// round trips allow while 4 consumers work, for a fixed duration. Reports consumed/s, produced/s
// and the backlog (unacknowledged messages) at the end.
import { loadSystem } from '../systems/system.ts'
import { type Measurement, payload } from '../types.ts'
import { waitUntil } from '../util.ts'
import { type Context, num, SUBJECTS, type Workload } from './workload.ts'

async function prepare(ctx: Context): Promise<void> {
  const sys = (await loadSystem(ctx.subject.system)).open(ctx.target, ctx.subject)
  try {
    await sys.install()
  } finally {
    await sys.close()
  }
}

async function measure(ctx: Context): Promise<Measurement> {
  const ms = num(ctx.params, 'seconds') * 1000
  const producerBatch = num(ctx.params, 'producerBatch')
  const sys = (await loadSystem(ctx.subject.system)).open(ctx.target, ctx.subject)
  try {
    await sys.connect()
    let consumed = 0
    const running = await sys.consume({
      consumers: num(ctx.params, 'consumers'),
      batch: num(ctx.params, 'batch'),
      onMessage: () => {
        consumed++
      },
    })
    // Warm-up: the producer connects and one message goes through before the clock starts.
    await sys.enqueue([payload(-1)])
    await waitUntil(() => consumed >= 1, 'warm-up message', 30_000)
    consumed = 0
    let produced = 0
    const t0 = performance.now()
    for (let i = 0; performance.now() - t0 < ms; i += producerBatch) {
      await sys.enqueue(Array.from({ length: producerBatch }, (_, k) => payload(i + k)))
      produced += producerBatch
    }
    const seconds = (performance.now() - t0) / 1000
    const consumedInTime = consumed
    const backlog = await sys.remaining()
    await running.stop()
    return {
      value: consumedInTime / seconds,
      extra: { produced: produced / seconds, backlog },
    }
  } finally {
    await sys.close()
  }
}

export const steady: Workload = {
  id: 'b',
  title: '(b) Steady producer → consumers',
  method:
    'One producer (its own connection or client instance, in the same process) enqueues batches of 10 back to back for the whole duration while 4 consumers (batch 10 each) handle them. consumed/s counts handler starts during the window; backlog is what the database still holds unacknowledged at the end. pgqrs runs `worker()` here.',
  columns: ['producer', 'consumers'],
  metric: { name: 'consumed/s', unit: 'msg/s', higherIsBetter: true },
  extras: [
    { key: 'produced', header: 'produced/s' },
    { key: 'backlog', header: 'backlog at end' },
  ],
  peers: true,
  rows(o) {
    return [
      {
        key: 'p10-c4',
        cells: { producer: '1 × batch 10', consumers: '4 × batch 10' },
        params: { seconds: o.steadyS, producerBatch: 10, consumers: 4, batch: 10 },
        subjects: [SUBJECTS.pgqrsWorker, SUBJECTS.pgBoss, SUBJECTS.graphile],
        timeoutMs: (o.steadyS + 120) * 1000,
      },
    ]
  },
  prepare,
  measure,
}
