import { type QueueMessage, type Store, ValidationError, validateName } from '@pgqrs/core'
import type { SETTLED } from '@pgqrs/queue'
import type { WorkflowContext } from './context.js'
import { executeDelivery } from './delivery.js'
import type { StepRetryPolicy } from './retry.js'
import { Run } from './run.js'

/** The seeds' workflow builder: `workflow().name(n).store(s).create()` / `.trigger(input).execute()`. */
export class WorkflowBuilder {
  #name: string | null = null
  #store: Store | null = null

  /** The workflow (and queue) name. */
  name(name: string): this {
    this.#name = validateName('workflow', name)
    return this
  }

  /** The store to use. */
  store(store: Store): this {
    this.#store = store
    return this
  }

  #need(): { name: string; store: Store } {
    if (!this.#name)
      throw new ValidationError(
        'name',
        null,
        'a workflow name',
        'No workflow name: call .name(name) first',
      )
    if (!this.#store)
      throw new ValidationError('store', null, 'a store', 'No store: call .store(store) first')
    return { name: this.#name, store: this.#store }
  }

  /** Creates the workflow and its queue if missing (idempotent). */
  async create(): Promise<void> {
    const { name, store } = this.#need()
    await store.workflows.ensure(name)
  }

  /** Prepares a run: `.trigger(input).execute()` enqueues `{ input }` and creates the run in one transaction. */
  trigger(
    input: unknown,
    options: { idempotencyKey?: string; delayMs?: number } = {},
  ): { execute(): Promise<QueueMessage> } {
    const { name, store } = this.#need()
    return {
      async execute() {
        const { message } = await store.runs.start(name, input, options)
        return message
      },
    }
  }
}

/** Starts a workflow builder. */
export function workflow(): WorkflowBuilder {
  return new WorkflowBuilder()
}

/** The seeds' run builder: `run().message(msg).store(s).execute()` gets or creates the run of a message. */
export function run(): {
  message(m: QueueMessage): { store(s: Store): { execute(): Promise<Run> } }
} {
  return {
    message: (m) => ({
      store: (s) => ({ execute: () => Run.open(s, m) }),
    }),
  }
}

/**
 * The seeds' handler: wraps `fn(ctx, input)` for `dequeue().worker(consumer).handle(handler)`,
 * where `ctx` is the run's {@link WorkflowContext} (`workflowStep(ctx, name, fn)` is `ctx.step`).
 * The handler settles the message itself (complete, fail, retry later, pause, sleep, cancel).
 */
export function workflowHandler<I = any, O = unknown>(
  store: Store,
  fn: (ctx: WorkflowContext, input: I) => Promise<O> | O,
  options: { retry?: Partial<StepRetryPolicy> } = {},
): (msg: QueueMessage, handler?: { readonly signal: AbortSignal }) => Promise<typeof SETTLED> {
  return (msg, handler) => executeDelivery(store, msg, fn, options.retry, handler)
}
