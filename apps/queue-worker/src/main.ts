/**
 * A queue worker configured from the environment. SIGTERM (or Ctrl-C) stops it gracefully: no new
 * leases, running jobs get GRACE_MS to finish, the rest are released, then it exits 0.
 *
 *   PGQRS_DSN=sqlite:///tmp/pgqrs.db QUEUE=tasks CONCURRENCY=8 node src/main.ts
 */
import * as pgqrs from 'pgqrs'
import { handleJob, type Job } from './handler.ts'
import { loadSettings } from './settings.ts'

const log = (line: string) => console.log(`queue-worker: ${line}`)

const settings = loadSettings(process.env)
const store = await pgqrs.connect(settings.dsn, settings.config)
await pgqrs.admin(store).install() // idempotent; safe when many workers start at once

const worker = pgqrs.worker<Job>(store, settings.queue, handleJob, {
  name: settings.name,
  concurrency: settings.concurrency,
  graceMs: settings.graceMs,
})
worker.on('message:start', (m) =>
  log(`start id=${m.id} task=${m.payload.task} attempt=${m.attempts}`),
)
worker.on('message:done', (m) => log(`done id=${m.id}`))
worker.on('message:failed', (m, e) => log(`failed id=${m.id} (retried later): ${e.message}`))
worker.on('message:dead', (m, e) => log(`dead id=${m.id} (no attempts left): ${e.message}`))
worker.on('lease:lost', (m) => log(`lease lost id=${m.id}`))
worker.on('error', (e) => log(`store error (retrying): ${e.message}`))

await worker.start()
log(`ready: queue=${settings.queue} concurrency=${settings.concurrency} pid=${process.pid}`)

async function shutdown(signal: string): Promise<void> {
  log(`${signal}: stopping (grace ${settings.graceMs} ms, ${worker.inFlight} running)`)
  await worker.stop({ graceMs: settings.graceMs })
  await store.close()
  log('stopped')
  process.exit(0)
}
process.once('SIGTERM', () => void shutdown('SIGTERM'))
process.once('SIGINT', () => void shutdown('SIGINT'))
