// SPEC 5.1: the seeds' workflow API (as the Rust crate and the Python bindings), then the low-level
// API where your code acquires each step and settles the run and the message itself.
// expect: handled run: SUCCESS {"archive":"/tmp/report.csv.zip"}
// expect: low level: list_files EXECUTE, run SUCCESS, message archived
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/ws-${process.pid}.db`,
)
await pgqrs.admin(store).install()

await pgqrs.workflow().name('archive_files').store(store).create() // ensure; creates its queue
const consumer = await pgqrs
  .consumer<{ input: { path: string } }>('worker-1', 'archive_files')
  .create(store)
await pgqrs
  .workflow()
  .name('archive_files')
  .store(store)
  .trigger({ path: '/tmp/report.csv' })
  .execute()

const handler = pgqrs.workflowHandler(store, async (run, input) => {
  const files = await pgqrs.workflowStep(run, 'list_files', async () => [input.path])
  const archive = await pgqrs.workflowStep(run, 'create_archive', async () => `${files[0]}.zip`)
  return { archive }
})
const [handled] = await pgqrs.dequeue().worker(consumer).handle(handler).execute(store)
const first = await store.runs.getByMessage(handled!.id)
console.log(`handled run: ${first?.status} ${JSON.stringify(first?.output)}`)

// low level, as in the Python seed
await pgqrs
  .workflow()
  .name('archive_files')
  .store(store)
  .trigger({ path: '/tmp/report.csv' })
  .execute()
const [msg] = await consumer.dequeue()
if (!msg) throw new Error('expected the second run to be queued')
const run = await pgqrs.run().message(msg).store(store).execute()
const step = await run.acquireStep('list_files')
if (step.status === 'EXECUTE') await step.guard.success([msg.payload.input.path]) // else step.output
await run.complete({ archive: '/tmp/report.csv.zip' })
await consumer.archive(msg)
const archived = (await store.messages.get(msg.id))?.archivedAt
  ? 'message archived'
  : 'NOT archived'
console.log(`low level: list_files ${step.status}, run ${run.record.status}, ${archived}`)
await store.close()
