import * as pgqrs from 'pgqrs'
import { heading, paint, say, seconds, sleep } from './output.ts'
import { createProgress } from './progress.ts'

/** What the queue part of the demo measured. */
export interface QueueResult {
  readonly jobs: number
  readonly processed: number
  readonly retries: number
  readonly ms: number
  readonly archived: number
  readonly leftActive: number
}

const QUEUE = 'demo.emails'

/** Every 37th job fails on its first delivery, to show retries with backoff. */
const failsFirstTime = (n: number) => n % 37 === 5

/**
 * Enqueues `jobs` messages in one statement, then drains them with a worker (16 handlers at once)
 * while a progress bar follows the worker's `message:done` events.
 */
export async function runQueuePhase(store: pgqrs.Store, jobs: number): Promise<QueueResult> {
  heading(`1. Queue: ${jobs} jobs, one worker, concurrency 16`)
  await store.queue(QUEUE)
  const producer = await store.producer<{ n: number; to: string }>(QUEUE)
  const payloads = Array.from({ length: jobs }, (_, n) => ({ n, to: `user${n}@example.com` }))
  const t0 = Date.now()
  await producer.enqueueMany(payloads)
  say(`  enqueued ${jobs} messages to "${QUEUE}" in one INSERT (${Date.now() - t0} ms)`)

  const progress = createProgress(jobs)
  let processed = 0
  let retries = 0
  let resolveDone!: () => void
  const allDone = new Promise<void>((resolve) => {
    resolveDone = resolve
  })
  const worker = pgqrs.worker<{ n: number; to: string }>(
    store,
    QUEUE,
    async (msg) => {
      await sleep(20 + (msg.id % 50)) // pretend to send an email
      if (failsFirstTime(msg.payload.n) && msg.attempts === 1) {
        throw new Error(`SMTP timeout for ${msg.payload.to}`)
      }
    },
    // A fixed 200 ms retry delay keeps the demo short (the default is exponential, 1 s → 5 min).
    {
      concurrency: 16,
      batchSize: 32,
      pollIntervalMs: 50,
      backoff: pgqrs.BackoffStrategy.fixed(200),
    },
  )
  worker.on('message:done', () => {
    processed++
    progress.update(processed, retries)
    if (processed === jobs) resolveDone()
  })
  worker.on('message:failed', () => {
    retries++
    progress.update(processed, retries)
  })
  const started = Date.now()
  await worker.start()
  const timeout = setTimeout(resolveDone, 40_000)
  await allDone
  clearTimeout(timeout)
  const ms = Date.now() - started
  progress.stop()
  await worker.stop({ graceMs: 5_000 })
  const metrics = await pgqrs.admin(store).queueMetrics(QUEUE)
  const leftActive = metrics.pending + metrics.leased + metrics.delayed
  say(
    `  ${paint('green', `processed ${processed}/${jobs}`)} in ${seconds(ms)} ` +
      `(${Math.round(processed / (ms / 1000))} jobs/s), ${retries} failed once and were retried`,
  )
  say(`  queue metrics: archived ${metrics.archived}, dead ${metrics.dead}, active ${leftActive}`)
  return { jobs, processed, retries, ms, archived: metrics.archived, leftActive }
}
