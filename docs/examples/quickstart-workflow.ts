// The README's workflow example: a durable workflow of two steps, run by a worker.
// expect: creating user for ada@example.com
// expect: result: { userId: 'user-1', welcomed: true }
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/wf-${process.pid}.db`,
)
await pgqrs.admin(store).install()

// Each step's result is stored: after a crash the run resumes and completed steps are not re-run.
const signup = pgqrs.defineWorkflow({
  name: 'signup',
  async run(ctx, input: { email: string }) {
    const userId = await ctx.step('create_user', async () => {
      console.log(`creating user for ${input.email}`)
      return 'user-1'
    })
    const welcomed = await ctx.step('send_welcome', async () => true)
    return { userId, welcomed }
  },
})

const runner = pgqrs.workflowWorker(store, [signup], { concurrency: 4 })
await runner.start()
const handle = await signup.start(store, { email: 'ada@example.com' })
console.log('result:', await handle.result({ timeoutMs: 10_000 }))
await runner.stop()
await store.close()
