import {
  type BackoffInput,
  type BackoffStrategy,
  backoffDelay,
  checkBackoff,
  DEFAULT_BACKOFF,
  type FailOutcome,
  LeaseLostError,
  type LeaseRef,
  type QueueMessage,
  type Store,
  toError,
  ValidationError,
  validateInt,
  MAX_DELAY_MS,
} from '@pgqrs/core'

/** Options of {@link Consumer.dequeue}. */
export interface ConsumerDequeueOptions {
  /** At most this many messages (1 to 1000). Default 1. */
  readonly batchSize?: number
  /** Lease length in ms. Default the store's `leaseMs` (30 000). */
  readonly leaseMs?: number
}

/**
 * Leases messages of one queue and settles them. Every lease operation applies only while the
 * message's lease is current: a holder whose lease was taken over gets `false` (or
 * `LeaseLostError` from the `*OrThrow` variants) and nothing changes.
 *
 * @example
 * ```ts
 * const consumer = await store.consumer('emails')
 * for (const m of await consumer.dequeue({ batchSize: 10 })) await consumer.archive(m)
 * ```
 */
export class Consumer<T = unknown> {
  readonly store: Store
  readonly queue: string
  /** The worker row recorded as holder of each leased message. */
  readonly workerId: number | null
  readonly backoff: BackoffStrategy

  constructor(
    store: Store,
    queue: string,
    workerId: number | null = null,
    backoff: BackoffInput = DEFAULT_BACKOFF,
  ) {
    this.store = store
    this.queue = queue
    this.workerId = workerId
    this.backoff = checkBackoff(backoff)
  }

  /** Atomically leases up to `batchSize` visible messages (never waits to fill the batch). */
  async dequeue(options: ConsumerDequeueOptions = {}): Promise<QueueMessage<T>[]> {
    return (await this.store.messages.dequeue(this.queue, {
      batchSize: options.batchSize ?? 1,
      leaseMs: options.leaseMs ?? this.store.config.leaseMs,
      consumerId: this.workerId,
    })) as QueueMessage<T>[]
  }

  /** Archives a message (kept with `archivedAt` for audit and replay); false when the lease is stale. */
  async archive(msg: LeaseRef): Promise<boolean> {
    const [ok] = await this.store.messages.archive([msg])
    return ok ?? false
  }

  /** Archives several messages; one boolean per message, in order. */
  archiveMany(msgs: readonly LeaseRef[]): Promise<boolean[]> {
    return this.store.messages.archive(msgs)
  }

  /** Deletes a message for good; false when the lease is stale. */
  async delete(msg: LeaseRef): Promise<boolean> {
    const [ok] = await this.store.messages.delete([msg])
    return ok ?? false
  }

  /** Deletes several messages; one boolean per message, in order. */
  deleteMany(msgs: readonly LeaseRef[]): Promise<boolean[]> {
    return this.store.messages.delete(msgs)
  }

  /** Extends the lease to run out `ms` from now. */
  extendLease(msg: LeaseRef, ms: number = this.store.config.leaseMs): Promise<boolean> {
    return this.store.messages.extendLease(msg, ms)
  }

  /** Gives a message back, visible again after `delayMs`; the delivery is not counted. */
  async release(msg: LeaseRef, options: { delayMs?: number } = {}): Promise<boolean> {
    const [ok] = await this.store.messages.release([msg], options.delayMs ?? 0)
    return ok ?? false
  }

  /**
   * Records a failed delivery: `lastError` is kept and the message is retried after the backoff
   * delay for its attempt, or becomes dead after `maxAttempts`. False when the lease is stale.
   */
  async fail(
    msg: QueueMessage<unknown>,
    error: unknown,
    options: { backoff?: BackoffInput; delayMs?: number } = {},
  ): Promise<Exclude<FailOutcome, 'lost'> | false> {
    const outcome = await this.#fail(msg, error, options)
    return outcome === 'lost' ? false : outcome
  }

  #fail(
    msg: QueueMessage<unknown>,
    error: unknown,
    options: { backoff?: BackoffInput; delayMs?: number },
  ) {
    if (typeof msg !== 'object' || msg === null)
      throw new ValidationError('msg', msg, 'a dequeued QueueMessage')
    const attempts = validateInt('msg.attempts', msg.attempts, 0)
    const delay =
      options.delayMs !== undefined
        ? validateInt('delayMs', options.delayMs, 0, MAX_DELAY_MS)
        : backoffDelay(
            options.backoff ? checkBackoff(options.backoff) : this.backoff,
            Math.max(0, attempts - 1),
            Math.random,
            toError(error),
          )
    return this.store.messages.fail(msg, describeError(error), delay)
  }

  /** {@link archive}, throwing `LeaseLostError` when the lease is stale. */
  async archiveOrThrow(msg: LeaseRef): Promise<void> {
    if (!(await this.archive(msg))) throw new LeaseLostError(msg.id, 'archive')
  }

  /** {@link delete}, throwing `LeaseLostError` when the lease is stale. */
  async deleteOrThrow(msg: LeaseRef): Promise<void> {
    if (!(await this.delete(msg))) throw new LeaseLostError(msg.id, 'delete')
  }

  /** {@link extendLease}, throwing `LeaseLostError` when the lease is stale. */
  async extendLeaseOrThrow(msg: LeaseRef, ms?: number): Promise<void> {
    if (!(await this.extendLease(msg, ms))) throw new LeaseLostError(msg.id, 'extendLease')
  }

  /** {@link release}, throwing `LeaseLostError` when the lease is stale. */
  async releaseOrThrow(msg: LeaseRef, options?: { delayMs?: number }): Promise<void> {
    if (!(await this.release(msg, options))) throw new LeaseLostError(msg.id, 'release')
  }

  /** {@link fail}, throwing `LeaseLostError` when the lease is stale. */
  async failOrThrow(
    msg: QueueMessage<unknown>,
    error: unknown,
    options: { backoff?: BackoffInput; delayMs?: number } = {},
  ): Promise<'retried' | 'dead'> {
    const outcome = await this.#fail(msg, error, options)
    if (outcome === 'lost') throw new LeaseLostError(msg.id, 'fail')
    return outcome
  }
}

/** The text kept as `lastError`: the error's name, message and the first lines of its stack. */
export function describeError(error: unknown): string {
  const e = toError(error)
  const head = `${e.name}: ${e.message}`
  // only the frames: the stack also starts with the (possibly multi-line) message
  const stack = e.stack
    ?.split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, 5)
    .join('\n')
  return stack ? `${head}\n${stack}` : head
}
