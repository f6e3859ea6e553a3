/**
 * An HTTP service that enqueues jobs from requests and completes them with a worker in the same
 * process. SIGTERM: the server stops accepting and finishes its requests, then the worker drains
 * (running jobs get GRACE_MS), then it exits 0 with no job left leased.
 *
 *   PGQRS_DSN=sqlite:///tmp/pgqrs-http.db API_TOKENS=alice:s3cret-token PORT=3000 node src/main.ts
 *   curl -X POST localhost:3000/jobs -H 'authorization: Bearer s3cret-token' \
 *     -H 'content-type: application/json' -d '{"report":"daily"}'
 */
import * as pgqrs from 'pgqrs'
import { buildServer, LIMITS, type StoredJob } from './server.ts'
import { loadSettings } from './settings.ts'

/** The longest pretend work a job may ask for (the server refuses more with a 400). */
const MAX_WORK_MS = LIMITS.workMs.max

/**
 * What a job does: here, pretend work of `workMs` ms (default 50, at most 60 000: a bigger or
 * non-integer value fails the job at once instead of holding a worker); `{ "fail": true }` throws.
 */
async function runJob(
  msg: pgqrs.QueueMessage<StoredJob>,
  ctx: pgqrs.HandlerContext,
): Promise<void> {
  const job = (msg.payload.body ?? {}) as { workMs?: unknown; fail?: boolean }
  const workMs = job.workMs ?? 50
  if (!Number.isSafeInteger(workMs) || (workMs as number) < 0 || (workMs as number) > MAX_WORK_MS)
    throw new pgqrs.NonRetryableError(`workMs must be a whole number from 0 to ${MAX_WORK_MS}`)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, workMs as number)
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

const worker = pgqrs.worker<StoredJob>(store, settings.queue, runJob, {
  concurrency: settings.concurrency,
})
worker.on('message:done', (m) => log(`done id=${m.id}`))
worker.on('message:failed', (m, e) => log(`failed id=${m.id}: ${e.message}`))
worker.on('error', (e) => log(`store error (retrying): ${e.message}`))
await worker.start()

const app = buildServer(store, settings.queue, {
  // Your app's authentication goes here; the example accepts the bearer tokens of API_TOKENS.
  authenticate: (req) => {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
    const caller = token === undefined ? undefined : settings.tokens.get(token)
    return caller === undefined ? null : { id: caller }
  },
  log,
})
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
