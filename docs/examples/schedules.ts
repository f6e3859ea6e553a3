// Cron schedules: a six-field (seconds) schedule fired by a worker, pause/resume/remove, and a
// workflow started by a schedule.
// expect: defined ping-every-second: next tick in ≤ 1 s: true
// expect: handled 2 pings, one message per tick: true
// expect: /^paused: true, then running again, next tick after now: true$/
// expect: schedules: ping-every-second (*/1 * * * * *, catch up latest), tidy-up (* * * * * *, workflow tidy)
// expect: a scheduled tidy run ended SUCCESS with {"removed":3}
// expect: removed: true, true; left: 0
import { tmpdir } from 'node:os'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/schedules-${process.pid}.db`,
)
await pgqrs.admin(store).install()
await store.queue('pings')

// 1. Define a schedule: stored in the database, so every process sees it and it survives
// restarts. Six fields: seconds first. Defining it again at every start-up is fine: with the
// same pattern its next tick is kept.
const ping = await pgqrs.schedule(store, {
  name: 'ping-every-second',
  cron: '*/1 * * * * *',
  timezone: 'Europe/Paris', // read in this zone (DST included); default UTC
  queue: 'pings',
  payload: { kind: 'ping' },
  overlap: 'skip', // no new ping while the previous one is still waiting or running
  catchUp: 'latest', // after downtime, fire the latest missed tick once
})
console.log(
  `defined ${ping.name}: next tick in ≤ 1 s: ${ping.nextRunAt.getTime() - Date.now() <= 1_000}`,
)

// 2. Any worker fires the ticks (one scheduler per process, shared by its workers; start a
// worker with `scheduler: false` to opt out). Each tick enqueues exactly one message, with the
// dedupe key schedule:<name>:<tick>, however many processes run.
const keys: string[] = []
const pings = pgqrs.worker(store, 'pings', async (msg) => {
  keys.push(msg.dedupeKey ?? '')
})
await pings.start()
while (keys.length < 2) await new Promise((r) => setTimeout(r, 50))
await pings.stop()
console.log(
  `handled ${keys.length} pings, one message per tick: ${new Set(keys).size === keys.length}`,
)

// 3. Manage schedules: list, pause, resume, remove (also `pgqrs schedules …`).
const schedules = pgqrs.schedules(store)
const paused = await schedules.pause('ping-every-second')
const resumed = await schedules.resume('ping-every-second')
console.log(
  `paused: ${paused.pausedAt !== null}, then ${resumed.pausedAt === null ? 'running' : 'paused'} again, ` +
    `next tick after now: ${resumed.nextRunAt.getTime() > Date.now() - 1_000}`,
)

// 4. A schedule can start a workflow run instead: each tick starts one run, with the
// idempotency key schedule:<name>:<tick>.
const tidy = pgqrs.defineWorkflow({
  name: 'tidy',
  async run(ctx, input: { files: number }) {
    return ctx.step('remove', async () => ({ removed: input.files }))
  },
})
await pgqrs.schedule(store, {
  name: 'tidy-up',
  cron: '* * * * * *',
  workflow: 'tidy',
  input: { files: 3 },
})
console.log(
  `schedules: ${(await schedules.list())
    .map(
      (s) =>
        `${s.name} (${s.cron}, ${s.kind === 'queue' ? `catch up ${s.catchUp}` : `workflow ${s.target}`})`,
    )
    .join(', ')}`,
)
const runner = pgqrs.workflowWorker(store, [tidy])
await runner.start()
let done: pgqrs.RunRecord | undefined
while (!done) {
  done = (await pgqrs.admin(store).runs({ workflow: 'tidy' })).find((r) => r.status === 'SUCCESS')
  if (!done) await new Promise((r) => setTimeout(r, 50))
}
await runner.stop()
console.log(`a scheduled tidy run ended ${done.status} with ${JSON.stringify(done.output)}`)

const removed = [await schedules.remove('ping-every-second'), await schedules.remove('tidy-up')]
console.log(`removed: ${removed.join(', ')}; left: ${(await schedules.list()).length}`)
await store.close()
