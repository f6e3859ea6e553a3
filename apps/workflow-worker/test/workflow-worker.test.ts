import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as pgqrs from 'pgqrs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { onboardingWorkflow } from '../src/onboarding-workflow.ts'
import { eventually, startApp, tempSqlite } from '../../test-support/app-process.ts'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const START = fileURLToPath(new URL('../src/start.ts', import.meta.url))
const STEPS = ['create_account', 'send_welcome_email', 'provision_storage', 'notify_team']

describe('apps/workflow-worker: crash it, restart it, watch it resume', () => {
  let db: ReturnType<typeof tempSqlite>
  let store: pgqrs.Store
  let logFile: string

  beforeEach(async () => {
    db = tempSqlite()
    logFile = join(db.dir, 'steps.log')
    store = await pgqrs.connect(db.dsn, { logger: false })
    await pgqrs.admin(store).install()
  })
  afterEach(async () => {
    await store.close()
    db.remove()
  })

  const env = (extra: Record<string, string> = {}) => ({
    PGQRS_DSN: db.dsn,
    PGQRS_LEASE_MS: '1000', // a crashed worker's run comes back within a second
    PGQRS_POLL_INTERVAL_MS: '50',
    LOG_FILE: logFile,
    STEP_MS: '20',
    ...extra,
  })
  const logLines = () => readFileSync(logFile, 'utf8').trim().split('\n')
  const count = (step: string) => logLines().filter((l) => l.includes(`step=${step} `)).length

  it('a worker SIGKILLed after step 2 leaves 2 stored steps; a new worker runs only steps 3-4', async () => {
    const def = onboardingWorkflow({ logFile, stepMs: 0 })
    const handle = await def.start(store, { user: 'ada' })

    const first = startApp(MAIN, env({ CRASH_AFTER_STEP: '2' }))
    expect(await first.exited()).toEqual({ code: null, signal: 'SIGKILL' })
    const steps = await pgqrs.admin(store).steps(handle.id)
    expect(steps.map((s) => [s.stepKey, s.status])).toEqual([
      ['create_account', 'SUCCESS'],
      ['send_welcome_email', 'SUCCESS'],
    ])
    expect((await handle.status()).status).toBe('RUNNING')
    expect(logLines()).toHaveLength(2)

    const second = startApp(MAIN, env())
    await eventually(async () => (await handle.status()).status === 'SUCCESS', 'run SUCCESS')
    expect(await handle.result()).toEqual({
      accountId: 'acct_ada',
      emailId: 'email_to_ada',
      bucket: 'bucket-ada',
      ticket: 'ticket-for-ada',
    })
    // every step function ran exactly once, steps 1-2 in the killed process, 3-4 in the new one
    for (const step of STEPS) expect(count(step), step).toBe(1)
    const pid = (step: string) => /pid=(\d+)/.exec(logLines().find((l) => l.includes(step))!)![1]
    expect(pid('create_account')).toBe(String(first.child.pid))
    expect(pid('send_welcome_email')).toBe(String(first.child.pid))
    expect(pid('provision_storage')).toBe(String(second.child.pid))
    expect(pid('notify_team')).toBe(String(second.child.pid))
    expect(second.output()).toMatch(/step 1 create_account … skipped \(stored result acct_ada\)/)
    expect(second.output()).toMatch(/step 2 send_welcome_email … skipped/)
    expect(second.output()).not.toMatch(/step [12] \w+ … running/)

    second.child.kill('SIGTERM')
    expect(await second.exited()).toEqual({ code: 0, signal: null })
    expect(second.output()).toContain('stopped')
    expect(await store.messages.list(def.name, { state: 'leased' })).toEqual([])
  })

  it('start.ts starts a run and, with --wait, prints its output once a worker has run it', async () => {
    const worker = startApp(MAIN, env())
    await worker.waitForLine(/ready:/)
    const cli = startApp(START, env(), ['grace', '--wait'])
    expect((await cli.exited()).code, cli.output()).toBe(0)
    const id = Number(/started run (\d+) \(user grace\)/.exec(cli.output())?.[1])
    expect(cli.output()).toContain(`run ${id} SUCCESS {"accountId":"acct_grace"`)
    expect((await store.runs.get(id))?.status).toBe('SUCCESS')
    expect(logLines().filter((l) => l.startsWith(`run=${id} `))).toHaveLength(4)
    worker.child.kill('SIGTERM')
    expect(await worker.exited()).toEqual({ code: 0, signal: null })
  })
})
