import { QueueNotFoundError, registerStoreMethods, type Store, validateName } from '@pgqrs/core'
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
  type WorkerEvents,
  type WorkerState,
} from './worker.js'
export type { WorkerOptions, WorkerConfig } from './worker-config.js'
export { enqueue, dequeue, producer, consumer, EnqueueBuilder, DequeueBuilder } from './builders.js'
export { admin, type Admin, type SystemStats, type VerifyResult } from './admin.js'

declare module '@pgqrs/core' {
  interface Store {
    /** A producer for `queue`, with this process's identity (the queue must exist). */
    producer<T = unknown>(queue: string): Promise<Producer<T>>
    /** A consumer of `queue`, with this process's identity (the queue must exist). */
    consumer<T = unknown>(queue: string): Promise<Consumer<T>>
  }
}

async function existing(store: Store, queue: string): Promise<void> {
  validateName('queue', queue)
  if (!(await store.queues.get(queue))) throw new QueueNotFoundError(queue)
}

registerStoreMethods({
  async producer(store: Store, queue: string) {
    await existing(store, queue)
    return new Producer(store, queue, (await processIdentity(store)).id)
  },
  async consumer(store: Store, queue: string) {
    await existing(store, queue)
    return new Consumer(store, queue, (await processIdentity(store)).id)
  },
})
