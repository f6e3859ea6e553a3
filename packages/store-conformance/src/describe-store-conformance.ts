import { describe } from 'vitest'
import { archiveDeleteTests } from './archive-delete.js'
import { boundsTests } from './bounds.js'
import { deadLetterTests } from './dead-letter.js'
import { deadRunTests } from './dead-runs.js'
import { dequeueLeaseTests } from './dequeue-lease.js'
import { enqueueTests } from './enqueue.js'
import { errorTests } from './errors.js'
import type { StoreHarness } from './harness.js'
import { conformancePlan } from './plan.js'
import { migrateTests } from './migrate.js'
import { multiProcessTests } from './multi-process.js'
import { registerQueueWorkerSuite } from './queue-worker/index.js'
import { queueTests } from './queues.js'
import { registerWorkflowSuite } from './workflow/index.js'
import { runTests } from './runs.js'
import { stepTests } from './steps.js'
import { workerTests } from './workers-heartbeat.js'

/**
 * Registers the whole conformance suite for one backend under
 * `describe(`${harness.name}: store conformance`)`. Each area gets its own store from
 * `harness.create()` (destroyed after it), and every test uses its own queue names, so the areas
 * need no truncation. Which capability-gated suites run is decided by the declared capabilities
 * alone ({@link conformancePlan}); the ones left out are listed on the console at collection.
 *
 * @example
 * ```ts
 * // packages/store-sqlite/test/conformance.test.ts
 * import { describeStoreConformance } from '@pgqrs/store-conformance'
 * import { sqliteHarness } from './harness.js'
 *
 * describeStoreConformance(sqliteHarness)
 * ```
 */
export function describeStoreConformance(harness: StoreHarness): void {
  const left = conformancePlan(harness).filter((p) => !p.included)
  if (left.length > 0) {
    // Said once per run, at collection: which capability-gated suites this store does not get.
    console.info(
      `[${harness.name}: store conformance] not registered, by declared capabilities:\n${left
        .map((p) => `  - ${p.suite}: ${p.reason}`)
        .join('\n')}`,
    )
  }
  describe(`${harness.name}: store conformance`, { timeout: 20_000 }, () => {
    queueTests(harness)
    enqueueTests(harness)
    dequeueLeaseTests(harness)
    archiveDeleteTests(harness)
    deadLetterTests(harness)
    workerTests(harness)
    boundsTests(harness)
    runTests(harness)
    deadRunTests(harness)
    stepTests(harness)
    migrateTests(harness)
    errorTests(harness)
    multiProcessTests(harness)
    registerQueueWorkerSuite(harness)
    registerWorkflowSuite(harness)
  })
}
