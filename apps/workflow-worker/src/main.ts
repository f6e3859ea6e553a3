/**
 * The crash-and-resume example: a workflow worker. Start runs with `node src/start.ts <user>`,
 * kill this process in the middle of a run (`kill -9`, or CRASH_AFTER_STEP=2), start it again and
 * watch the run resume from its last completed step. SIGTERM stops it gracefully (exit 0).
 *
 *   PGQRS_DSN=sqlite:///tmp/pgqrs-wf.db PGQRS_LEASE_MS=5000 node src/main.ts
 */
import * as pgqrs from 'pgqrs'
import { onboardingWorkflow } from './onboarding-workflow.ts'
import { loadSettings } from './settings.ts'

const log = (line: string) => console.log(`workflow-worker[${process.pid}]: ${line}`)

const settings = loadSettings(process.env)
const store = await pgqrs.connect(settings.dsn, settings.config)
await pgqrs.admin(store).install()

const onboarding = onboardingWorkflow({
  logFile: settings.logFile,
  stepMs: settings.stepMs,
  crashAfterStep: settings.crashAfterStep,
  print: log,
})
const runner = pgqrs.workflowWorker(store, [onboarding], { concurrency: settings.concurrency })
for (const worker of runner.workers.values()) {
  worker.on('error', (e) => log(`store error (retrying): ${e.message}`))
}
await runner.start()
log(`ready: step log ${settings.logFile}, lease ${store.config.leaseMs} ms`)

async function shutdown(signal: string): Promise<void> {
  log(`${signal}: stopping`)
  await runner.stop({ graceMs: settings.graceMs })
  await store.close()
  log('stopped')
  process.exit(0)
}
process.once('SIGTERM', () => void shutdown('SIGTERM'))
process.once('SIGINT', () => void shutdown('SIGINT'))
