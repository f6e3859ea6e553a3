// SPEC 5.2: the idiomatic workflow API: defineWorkflow, a durable sleep, idempotent starts, a
// worker, and waiting for the result.
// expect: is SLEEPING until
// expect: same idempotency key, same run: true
// expect: output: /tmp/archive-of-2-files.zip
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/wd-${process.pid}.db`,
)
await pgqrs.admin(store).install()
const backoff = pgqrs.BackoffStrategy.exponentialJitter(1_000, 60_000)
const listFiles = async (path: string) => [path, `${path}.sha256`]
const zip = async (files: string[]) => `/tmp/archive-of-${files.length}-files.zip`
const idempotencyKey = 'report-2024-06-30'

const archiveFiles = pgqrs.defineWorkflow({
  name: 'archive_files',
  retry: { maxAttempts: 5, backoff },
  async run(ctx, input: { path: string }) {
    const files = await ctx.step('list_files', () => listFiles(input.path))
    await ctx.sleep('cool_down', 60_000) // durable: survives restarts, holds no process
    return ctx.step('create_archive', () => zip(files))
  },
})
const handle = await archiveFiles.start(store, { path: '/tmp/report.csv' }, { idempotencyKey })
const runner = pgqrs.workflowWorker(store, [archiveFiles], { concurrency: 4 })
await runner.start()

// The run sleeps for 60 s without holding a process or a lease; this example wakes it early.
for (;;) {
  const run = await handle.status()
  if (run.status === 'SLEEPING') {
    console.log(`run ${run.id} is SLEEPING until ${run.wakeAt?.toISOString()}`)
    break
  }
  await new Promise((resolve) => setTimeout(resolve, 20))
}
const again = await archiveFiles.start(store, { path: '/tmp/report.csv' }, { idempotencyKey })
console.log(`same idempotency key, same run: ${again.id === handle.id}`)
await pgqrs.admin(store).resumeRun(handle.id)

const output = await handle.result({ timeoutMs: 30_000 })
console.log(`output: ${output}`)
await runner.stop()
await store.close()
