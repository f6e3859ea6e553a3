import { RUN_STATUSES, type QueueMetrics, type Store, type WorkerHealth } from '@pgqrs/core'
import {
  type MetricsSample,
  type RunCounts,
  ratesBetween,
  runCounts,
  storeSource,
} from '@pgqrs/dashboard'
import { admin } from '@pgqrs/queue'
import { createLogUpdate } from 'log-update'
import type { CliIo } from './io.js'
import type { Format } from './output.js'
import { type Column, rowsTable } from './table.js'

/** One refresh of `stats --watch`. */
export interface StatsFrame {
  readonly at: Date
  readonly queues: readonly (QueueMetrics & {
    handledPerSec: number | null
    failureRate: number | null
  })[]
  readonly workers: WorkerHealth
  readonly runs: RunCounts
}

/** A duration in words, for the oldest pending message. */
function age(ms: number | null): string {
  if (ms === null) return ''
  if (ms < 1_000) return `${ms} ms`
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`
}

const QUEUE_COLUMNS: readonly Column<StatsFrame['queues'][number]>[] = [
  { header: 'queue', value: (q) => q.name },
  { header: 'pending', value: (q) => q.pending },
  { header: 'delayed', value: (q) => q.delayed },
  { header: 'in flight', value: (q) => q.leased },
  { header: 'dead', value: (q) => q.dead },
  { header: 'archived', value: (q) => q.archived },
  { header: 'oldest pending', value: (q) => age(q.oldestPendingAgeMs) },
  {
    header: 'handled/s',
    value: (q) => (q.handledPerSec === null ? '' : q.handledPerSec.toFixed(1)),
  },
  {
    header: 'failed %',
    value: (q) => (q.failureRate === null ? '' : (q.failureRate * 100).toFixed(0)),
  },
]

/** Reads one frame: three bounded queries (the queue counts, worker health, the newest runs). */
export async function readFrame(
  store: Store,
  previous: MetricsSample | null,
): Promise<{ frame: StatsFrame; sample: MetricsSample }> {
  const source = storeSource(store)
  const [queues, workers, runs] = await Promise.all([
    source.queueMetrics(),
    admin(store).workerHealth(),
    runCounts(source),
  ])
  const sample: MetricsSample = { at: Date.now(), queues }
  const rows = queues.map((q) => {
    const r = previous ? ratesBetween(previous, sample, q.name) : null
    return { ...q, handledPerSec: r ? r.throughput : null, failureRate: r ? r.failureRate : null }
  })
  return { frame: { at: new Date(sample.at), queues: rows, workers, runs }, sample }
}

/** A frame as text: the queue table, then one line of workers and one of runs. */
export function renderFrame(frame: StatsFrame, header: string): string {
  const w = frame.workers
  const runs = RUN_STATUSES.map((s) => `${s} ${frame.runs.counts[s]}`).join('  ')
  const runScope = frame.runs.sampleOf === null ? 'runs' : `runs (newest ${frame.runs.sampleOf})`
  return [
    header,
    '',
    frame.queues.length === 0 ? 'no queues' : rowsTable(frame.queues, QUEUE_COLUMNS),
    `workers: ${w.ready + w.polling} live (${w.polling} polling, ${w.ready} ready), ${w.suspended} suspended, ${w.interrupted} interrupted, ${w.stale} stale, ${w.stopped} stopped`,
    `${runScope}: ${runs}`,
  ].join('\n')
}

/** Where frames go: redrawn in place on a terminal (log-update), appended in a pipe. */
function frameWriter(io: CliIo): { write(text: string): void; done(): void } {
  if (!io.stdoutIsTTY) return { write: (text) => io.stdout(`${text}\n\n`), done() {} }
  const size = () => io.terminalSize?.() ?? {}
  const stream = {
    isTTY: true,
    get columns() {
      return size().columns ?? 100
    },
    get rows() {
      return size().rows ?? 40
    },
    write(text: string) {
      io.stdout(text)
      return true
    },
  }
  const log = createLogUpdate(stream as unknown as NodeJS.WriteStream)
  return { write: (text) => log(text), done: () => log.done() }
}

/**
 * `pgqrs stats --watch`: the overview redrawn every `intervalMs` until `until` resolves. With
 * `--format json`, one JSON document per line and refresh. A failed refresh is shown and retried.
 */
export async function watchStats(
  store: Store,
  io: CliIo,
  options: { intervalMs: number; format: Format; until: Promise<void> },
): Promise<void> {
  let stopped = false
  void options.until.then(() => {
    stopped = true
  })
  const out = frameWriter(io)
  let previous: MetricsSample | null = null
  while (!stopped) {
    try {
      const { frame, sample } = await readFrame(store, previous)
      previous = sample
      if (options.format === 'json') io.stdout(`${JSON.stringify(frame)}\n`)
      else {
        const header = `pgqrs stats · ${store.backend} · every ${options.intervalMs / 1000} s · ${frame.at.toISOString()} (Ctrl-C to stop)`
        out.write(renderFrame(frame, header))
      }
    } catch (e) {
      const message = `pgqrs: refresh failed: ${(e as Error).message} (retrying)`
      if (options.format === 'json') io.stderr(`${message}\n`)
      else out.write(message)
    }
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      new Promise((resolve) => {
        timer = setTimeout(resolve, options.intervalMs)
      }),
      options.until,
    ])
    clearTimeout(timer)
  }
  out.done()
}
