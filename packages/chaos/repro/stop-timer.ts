// Reproduction (chaos finding 5): Worker.stop() resolves, but leaves its grace-period timer
// (`sleep(graceMs)` raced against the in-flight handlers) running, so a process that stopped its
// workers and closed its store cannot exit by itself until graceMs (default 10 s) has passed.
// Run: cd packages/chaos && pnpm exec node repro/stop-timer.ts
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { connect } from '@pgqrs/core'
import { worker } from '@pgqrs/queue'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stop-timer-'))
const store = await connect(`sqlite://${path.join(dir, 'app.db')}`, { logger: false })
await store.migrate()
const w = worker(store, 'q', async () => {}, { pollIntervalMs: 50 })
await w.start()
await w.stop() // default graceMs 10 000; nothing is in flight
await store.close()
fs.rmSync(dir, { recursive: true, force: true })
const stoppedAt = Date.now()
process.on('exit', () => {
  console.log(
    `process exited ${Date.now() - stoppedAt} ms after stop() resolved and the store closed`,
  )
})
