// Everything above the store works on the custom one: the queue, workers and workflows.
// run: once
// expect: my-sqlite: worker handled 3 messages
// expect: my-sqlite: workflow output "hello from my-sqlite"
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as pgqrs from 'pgqrs'
import { MySqliteStore } from './my-sqlite-store.ts'

const store = new MySqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'pgqrs-')), 'app.db') })
await pgqrs.admin(store).install()
await store.queue('tasks')
await pgqrs
  .enqueue()
  .messages([{ n: 1 }, { n: 2 }, { n: 3 }])
  .to('tasks')
  .execute(store)

let handled = 0
const drained = Promise.withResolvers<void>()
const worker = pgqrs.worker(store, 'tasks', async () => {
  if (++handled === 3) drained.resolve()
})
await worker.start()
await drained.promise
await worker.stop()
console.log(`${store.backend}: worker handled ${handled} messages`)

const hello = pgqrs.defineWorkflow({
  name: 'hello',
  run: (ctx) => ctx.step('greet', () => `hello from ${store.backend}`),
})
const runner = await pgqrs.workflowWorker(store, [hello]).start()
const output = await (await hello.start(store, {})).result({ timeoutMs: 10_000 })
console.log(`${store.backend}: workflow output ${JSON.stringify(output)}`)
await runner.stop()
await store.close()
