// Reproduction (chaos finding 2): a transient store error inside the workflow engine (here: the
// connection drops while a step's completion is being recorded) ends the run ERROR for good, as if
// the user's code had failed, instead of leaving the delivery to be retried (the message's lease
// runs out and the run resumes from its last completed step).
// Run: cd packages/chaos && pnpm exec node repro/run-error.ts
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ConnectionError, connect } from '@pgqrs/core'
import { defineWorkflow, workflowWorker } from '@pgqrs/workflow'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-error-'))
const store = await connect(`sqlite://${path.join(dir, 'app.db')}`, { logger: false })
await store.migrate()

// The first step completion fails the way a dropped Postgres connection makes it fail.
const complete = store.steps.complete.bind(store.steps)
let failures = 1
store.steps.complete = async (...args) => {
  if (failures-- > 0)
    throw new ConnectionError('sqlite', 'connection failed during steps.complete (simulated)')
  return complete(...args)
}

const wf = defineWorkflow({
  name: 'transient',
  async run(ctx) {
    const a = await ctx.step('a', () => 1)
    return ctx.step('b', () => a + 1)
  },
})
const runner = workflowWorker(store, [wf], { leaseMs: 500, pollIntervalMs: 50 })
for (const w of runner.workers.values()) w.on('error', () => {})
await runner.start()
const handle = await wf.start(store, {})
const outcome = await handle.result({ timeoutMs: 5_000, pollIntervalMs: 50 }).then(
  (v) => `SUCCESS ${JSON.stringify(v)}`,
  (e: Error) => `${e.name}: ${e.message}`,
)
const run = await handle.status()
console.log(`run ${run.id}: ${run.status} — result(): ${outcome}`)
console.log('stored error:', JSON.stringify(run.error))
await runner.stop({ graceMs: 0 })
await store.close()
fs.rmSync(dir, { recursive: true, force: true })
process.exit(run.status === 'SUCCESS' ? 0 : 1)
