import { ConfigError, type Store } from '@pgqrs/core'
import { type Worker, type WorkerOptions, worker } from '@pgqrs/queue'
import { executeDelivery } from './delivery.js'
import type { WorkflowDefinition } from './define.js'

/** Runs the workflows' queues: one queue worker per workflow version. */
export interface WorkflowWorker {
  /**
   * The queue workers, by queue: the workflow name for version 1, `<name>:v<N>` for version N.
   */
  readonly workers: ReadonlyMap<string, Worker>
  /** Ensures the workflows exist and starts polling. */
  start(): Promise<this>
  /** Stops every queue worker (see `Worker.stop`). */
  stop(options?: { graceMs?: number }): Promise<void>
}

/**
 * Executes runs of `workflows`. `options` are the queue workers' (`concurrency`, `leaseMs`, …);
 * `telemetry: false` also turns off the run and step spans and the workflow metrics.
 *
 * @example
 * ```ts
 * const runner = workflowWorker(store, [archiveFiles], { concurrency: 4 })
 * await runner.start()
 * ```
 */
export function workflowWorker(
  store: Store,
  workflows: readonly WorkflowDefinition<any, any>[],
  options: WorkerOptions = {},
): WorkflowWorker {
  if (!Array.isArray(workflows) || workflows.length === 0)
    throw new ConfigError('workflows', 'workflowWorker needs at least one workflow definition')
  const workers = new Map<string, Worker>()
  // telemetry: false turns off the run and step spans as well as the queue worker's
  const delivery = { telemetry: options.telemetry !== false }
  for (const def of workflows) {
    // a definition from before versions has no queue: its name is its queue
    const queue = def.queue ?? def.name
    if (workers.has(queue))
      throw new ConfigError(
        'workflows',
        `workflow "${def.name}" version ${def.version ?? 1} is listed twice`,
      )
    const name =
      options.name === undefined
        ? undefined
        : workflows.length === 1
          ? options.name
          : `${options.name}:${queue}`
    workers.set(
      queue,
      worker(
        store,
        queue,
        (msg, ctx) => executeDelivery(store, msg, def.body, def.retry, ctx, delivery),
        {
          ...options,
          name,
        },
      ),
    )
  }
  return {
    workers,
    async start() {
      for (const def of workflows) await def.ensure(store)
      for (const w of workers.values()) await w.start()
      return this
    },
    async stop(stopOptions) {
      await Promise.all([...workers.values()].map((w) => w.stop(stopOptions)))
    },
  }
}
