/**
 * An HTTP service that enqueues jobs from requests and completes them with a worker in the same
 * process. SIGTERM: the server stops accepting and finishes its requests, then the worker drains
 * (running jobs get GRACE_MS), then it exits 0 with no job left leased.
 *
 *   PGQRS_DSN=sqlite:///tmp/pgqrs-http.db PORT=3000 node src/main.ts
 *   curl -X POST localhost:3000/jobs -H 'content-type: application/json' -d '{"report":"daily"}'
 */
import * as pgqrs from 'pgqrs'
import { buildServer } from './server.ts'
import { loadSettings } from './settings.ts'

/** What a job does: here, pretend work of `workMs` (default 50) ms; `{ "fail": true }` throws. */
async function runJob(msg: pgqrs.QueueMessage, ctx: pgqrs.HandlerContext): Promise<void> {
  const job = (msg.payload ?? {}) as { workMs?: number; fail?: boolean }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, job.workMs ?? 50)
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(new Error(`job ${msg.id} interrupted`))
    })
  })
  if (job.fail) throw new Error(`job ${msg.id} failed on purpose`)
}

const log = (line: string) => console.log(`http-service: ${line}`)
const settings = loadSettings(process.env)
const store = await pgqrs.connect(settings.dsn, settings.config)
await pgqrs.admin(store).install()
await store.queue(settings.queue)

const worker = pgqrs.worker(store, settings.queue, runJob, { concurrency: settings.concurrency })
worker.on('message:done', (m) => log(`done id=${m.id}`))
worker.on('message:failed', (m, e) => log(`failed id=${m.id}: ${e.message}`))
worker.on('error', (e) => log(`store error (retrying): ${e.message}`))
await worker.start()

const app = buildServer(store, settings.queue)
const address = await app.listen({ host: settings.host, port: settings.port })
log(`listening on ${address} (queue ${settings.queue}, pid ${process.pid})`)

async function shutdown(signal: string): Promise<void> {
  log(`${signal}: closing the server, then draining the worker (grace ${settings.graceMs} ms)`)
  await app.close() // no new requests; in-flight requests finish
  await worker.stop({ graceMs: settings.graceMs }) // running jobs finish or are released
  await store.close()
  log('stopped')
  process.exit(0)
}
process.once('SIGTERM', () => void shutdown('SIGTERM'))
process.once('SIGINT', () => void shutdown('SIGINT'))
