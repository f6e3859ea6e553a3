import {
  type LeaseRef,
  MAX_BATCH_SIZE,
  MAX_TIMER_MS,
  type QueueMessage,
  QueueNotFoundError,
  type SettleAndDequeueOptions,
  type Store,
  ValidationError,
  validateInt,
  validateName,
} from '@pgqrs/core'

/**
 * Settles `refs` (archive, or delete with `settle: 'delete'`) and claims the next batch of
 * `queue`: `store.messages.settleAndDequeue` where the store has it (one round trip and one
 * commit), otherwise the same steps with the required methods (the queue checked first, then the
 * settle, then the claim). The worker settles finished messages this way. Same contract as
 * `MessageRepository.settleAndDequeue`.
 */
export async function settleAndDequeue(
  store: Store,
  refs: readonly LeaseRef[],
  queue: string,
  options: SettleAndDequeueOptions,
): Promise<{ settled: boolean[]; messages: QueueMessage[] }> {
  const { messages } = store
  if (messages.settleAndDequeue) return messages.settleAndDequeue(refs, queue, options)
  // Everything that could refuse the call is checked before anything is settled.
  validateName('queue', queue)
  if (typeof options !== 'object' || options === null)
    throw new ValidationError('options', options, 'an object with batchSize and leaseMs')
  validateInt('batchSize', options.batchSize, 1, MAX_BATCH_SIZE)
  validateInt('leaseMs', options.leaseMs, 1, MAX_TIMER_MS)
  const how = options.settle ?? 'archive'
  if (how !== 'archive' && how !== 'delete')
    throw new ValidationError('settle', how, "'archive' or 'delete'")
  if (!(await store.queues.get(queue))) throw new QueueNotFoundError(queue)
  const settled =
    refs.length === 0
      ? []
      : await (how === 'delete'
          ? messages.delete(refs)
          : messages.archive(refs, { outcomes: options.outcomes }))
  const { batchSize, leaseMs, consumerId } = options
  return { settled, messages: await messages.dequeue(queue, { batchSize, leaseMs, consumerId }) }
}
