import { QueueNotFoundError, type Store, validateName } from '@pgqrs/core'
import { Consumer } from './consumer.js'
import { processIdentity } from './identity.js'
import { Producer } from './producer.js'

export { Producer, type EnqueueOptions } from './producer.js'
export { Consumer, type ConsumerDequeueOptions, describeError } from './consumer.js'
export {
  SETTLED,
  Worker,
  worker,
  type Handler,
  type HandlerContext,
  type HandlerMap,
  type WorkerEvents,
  type WorkerState,
} from './worker.js'
export type { WorkerOptions, WorkerConfig } from './worker-config.js'
export { enqueue, dequeue, producer, consumer, EnqueueBuilder, DequeueBuilder } from './builders.js'
export {
  admin,
  type Admin,
  type QueueLimitsInput,
  type SystemStats,
  type VerifyResult,
} from './admin.js'
export { settleAndDequeue } from './settle.js'
export {
  schedule,
  schedules,
  MAX_CATCH_UP,
  type ScheduleOptions,
  type QueueScheduleOptions,
  type WorkflowScheduleOptions,
  type Schedules,
} from './schedule.js'
export { Scheduler, type SchedulerEvents, type SchedulerOptions } from './scheduler.js'

declare module '@pgqrs/core' {
  interface Store {
    /**
     * A producer for `queue`, with this process's identity (the queue must exist). Stores built on
     * `KyselyStore` implement it with {@link createProducer}; a store written from scratch does the
     * same.
     */
    producer<T = unknown>(queue: string): Promise<Producer<T>>
    /** A consumer of `queue`, with this process's identity (the queue must exist): see {@link createConsumer}. */
    consumer<T = unknown>(queue: string): Promise<Consumer<T>>
  }
}

async function existing(store: Store, queue: string): Promise<void> {
  validateName('queue', queue)
  if (!(await store.queues.get(queue))) throw new QueueNotFoundError(queue)
}

/**
 * A producer for an existing `queue` of `store`, with this process's identity (one worker row per
 * process and store, not one per producer): what `store.producer(queue)` returns.
 * `QueueNotFoundError` when the queue does not exist.
 */
export async function createProducer<T = unknown>(
  store: Store,
  queue: string,
): Promise<Producer<T>> {
  await existing(store, queue)
  return new Producer<T>(store, queue, (await processIdentity(store)).id)
}

/**
 * A consumer of an existing `queue` of `store`, with this process's identity: what
 * `store.consumer(queue)` returns. `QueueNotFoundError` when the queue does not exist.
 */
export async function createConsumer<T = unknown>(
  store: Store,
  queue: string,
): Promise<Consumer<T>> {
  await existing(store, queue)
  return new Consumer<T>(store, queue, (await processIdentity(store)).id)
}

export { observeQueues, type ObserveQueuesOptions, TELEMETRY_SCOPE } from './telemetry.js'
