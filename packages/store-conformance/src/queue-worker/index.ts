import { describe } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { apiSampleTests } from './api-samples.js'
import { badInputTests } from './bad-input.js'
import { consumerLeaseTests } from './consumer-leases.js'
import { enqueueOptionTests } from './enqueue-options.js'
import { flowControlTests } from './flow-control.js'
import { limitTests } from './limits.js'
import { multiProcessWorkerTests } from './multi-process.js'
import { parallelClaimTests } from './parallel-claims.js'
import { scheduleTests } from './schedules.js'
import { wakeupTests } from './wakeup.js'
import { workerLoopTests } from './worker-loop.js'

export { apiSampleTests } from './api-samples.js'
export { badInputTests } from './bad-input.js'
export { consumerLeaseTests } from './consumer-leases.js'
export { enqueueOptionTests } from './enqueue-options.js'
export { flowControlTests } from './flow-control.js'
export { limitTests } from './limits.js'
export { multiProcessWorkerTests } from './multi-process.js'
export { parallelClaimTests } from './parallel-claims.js'
export { scheduleTests } from './schedules.js'
export { wakeupTests } from './wakeup.js'
export { workerLoopTests } from './worker-loop.js'

/**
 * Registers the `queue-worker` behaviour suite: the real `@pgqrs/queue` (producers, consumers,
 * builders, workers, admin) running over the harness's store — the SPEC 4.1 samples, enqueue
 * options and transactional enqueue, consumer leases, the worker loop, wake-ups, SPEC section 9
 * at the queue API and, for `multi-process` stores, forked worker processes (with one SIGKILLed).
 * Each area opens its own store with `harness.create()`; every test uses its own queue names.
 * Call it inside `describe(`${harness.name}: store conformance`)`.
 *
 * @example
 * ```ts
 * describe('sqlite: store conformance', () => registerQueueWorkerSuite(sqliteHarness))
 * ```
 */
export function registerQueueWorkerSuite(harness: StoreHarness): void {
  describe('queue-worker', { timeout: 30_000 }, () => {
    apiSampleTests(harness)
    enqueueOptionTests(harness)
    consumerLeaseTests(harness)
    workerLoopTests(harness)
    parallelClaimTests(harness)
    wakeupTests(harness)
    badInputTests(harness)
    multiProcessWorkerTests(harness)
    flowControlTests(harness)
    scheduleTests(harness)
    limitTests(harness)
  })
}
