import { describe } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { planned } from '../plan.js'
import { cancellationTests } from './cancellation.js'
import { childWorkflowTests } from './child-workflows.js'
import { crashTests } from './crash.js'
import { engineSignalTests } from './engine-signals.js'
import { eventTests } from './events.js'
import { idiomaticApiTests } from './idiomatic-api.js'
import { memoisedStepTests } from './memoised-steps.js'
import { parallelStepTests } from './parallel.js'
import { recoveryTests } from './recovery.js'
import { retryTests } from './retries.js'
import { seedsApiTests } from './seeds-api.js'
import { sleepTests } from './sleep.js'
import { timeoutTests } from './timeouts.js'
import { transactionalStepTests } from './transactional.js'
import { versioningTests } from './versioning.js'

export { cancellationTests } from './cancellation.js'
export { childWorkflowTests } from './child-workflows.js'
export { crashTests } from './crash.js'
export { engineSignalTests } from './engine-signals.js'
export { eventTests } from './events.js'
export { idiomaticApiTests } from './idiomatic-api.js'
export { memoisedStepTests } from './memoised-steps.js'
export { parallelStepTests } from './parallel.js'
export { recoveryTests } from './recovery.js'
export { retryTests } from './retries.js'
export { seedsApiTests } from './seeds-api.js'
export { sleepTests } from './sleep.js'
export { timeoutTests } from './timeouts.js'
export { transactionalStepTests } from './transactional.js'
export { versioningTests } from './versioning.js'

/**
 * Registers the workflow behaviour suite for one backend under `describe('workflow')`: the seeds'
 * and the idiomatic API (SPEC 5.1, 5.2), memoised steps and replay, step retries, durable sleep
 * and resume, the five cancellation timings, terminal redelivery, fencing, transactional steps
 * and, where `capabilities.sharedAcrossProcesses`, crash recovery with real processes killed by
 * SIGKILL. Each area
 * gets its own store from `harness.create()` and every test its own workflow names.
 *
 * @example
 * ```ts
 * describe('sqlite: store conformance', () => registerWorkflowSuite(sqliteHarness))
 * ```
 */
export function registerWorkflowSuite(harness: StoreHarness): void {
  describe('workflow', { timeout: 30_000 }, () => {
    seedsApiTests(harness)
    idiomaticApiTests(harness)
    memoisedStepTests(harness)
    retryTests(harness)
    sleepTests(harness)
    cancellationTests(harness)
    recoveryTests(harness)
    transactionalStepTests(harness)
    engineSignalTests(harness)
    eventTests(harness)
    timeoutTests(harness)
    parallelStepTests(harness)
    versioningTests(harness)
    childWorkflowTests(harness)
    // Real processes sharing one database: a server, or one file (SQLite, Turso).
    if (planned(harness, 'workflow: crash recovery')) crashTests(harness)
  })
}
