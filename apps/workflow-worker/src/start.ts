/**
 * Starts a run of `onboard_user`: `node src/start.ts <user> [--wait]`. Prints the run id; with
 * `--wait`, waits for the run (a worker must be running) and prints its status and output.
 */
import * as pgqrs from 'pgqrs'
import { onboardingWorkflow } from './onboarding-workflow.ts'
import { loadSettings } from './settings.ts'

const settings = loadSettings(process.env)
const [user = 'ada', ...flags] = process.argv.slice(2)
const store = await pgqrs.connect(settings.dsn, settings.config)
try {
  await pgqrs.admin(store).install()
  const onboarding = onboardingWorkflow({ logFile: settings.logFile, stepMs: settings.stepMs })
  const handle = await onboarding.start(store, { user })
  console.log(`started run ${handle.id} (user ${user})`)
  if (flags.includes('--wait')) {
    const output = await handle.result({ timeoutMs: 120_000 })
    console.log(`run ${handle.id} SUCCESS ${JSON.stringify(output)}`)
  }
} finally {
  await store.close()
}
