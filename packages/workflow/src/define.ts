import {
  ConfigError,
  type StartRunOptions,
  type Store,
  ValidationError,
  validateInt,
  validateName,
  WorkflowNotFoundError,
  workflowQueue,
} from '@pgqrs/core'
import { MAX_WAIT_MS } from './errors.js'
import { RunHandle } from './handle.js'
import { resolveRetry, type StepRetryPolicy } from './retry.js'
import type { WorkflowContext } from './context.js'
import { traceStart } from './telemetry.js'

/** Something that checks an input: a function, or an object with `parse` (zod, valibot, …). */
export type InputSchema<I> = ((input: unknown) => I) | { parse(input: unknown): I }

/** Options of {@link defineWorkflow}. */
export interface WorkflowDefinitionOptions<I, O> {
  /** Workflow name; also the name of its queue. */
  readonly name: string
  /** Default retry policy of its steps. */
  readonly retry?: Partial<StepRetryPolicy>
  /** Checked on `start()`; a failure is a `ValidationError` and nothing is stored. */
  readonly input?: InputSchema<I>
  /**
   * Each run must end within this many ms of its start: past it the run ends ERROR with a
   * `TimeoutError`, whether it runs a step (its signal is aborted), sleeps or waits for an event.
   * `start(…, { deadline })` sets an instant for one run instead.
   */
  readonly timeoutMs?: number
  /**
   * The version of this code (an integer ≥ 1, default 1). Each run records the version it was
   * started with, and a worker only executes runs of the versions it registers: deploy a change
   * that alters the step sequence as a new version, and keep a worker with the old one until its
   * runs are done. Runs of version N > 1 use the queue `<name>:v<N>`.
   */
  readonly version?: number
  /** The workflow body: deterministic code around `ctx.step` and `ctx.sleep`. */
  run(ctx: WorkflowContext, input: I): Promise<O> | O
}

/** Options of {@link WorkflowDefinition.start}. */
export interface StartOptions {
  /** A second start with the same key returns the first run. */
  readonly idempotencyKey?: string
  readonly delayMs?: number
  readonly priority?: number
  /** Past this instant the run ends ERROR with a `TimeoutError` (default: now + the workflow's `timeoutMs`). */
  readonly deadline?: Date
}

/** A defined workflow. */
export interface WorkflowDefinition<I = unknown, O = unknown> {
  readonly name: string
  /** The code version (default 1). */
  readonly version: number
  /** The queue its runs go to: the name for version 1, `<name>:v<N>` otherwise. */
  readonly queue: string
  readonly retry: StepRetryPolicy
  /** Creates the workflow (and its queue) if missing. */
  ensure(store: Store): Promise<void>
  /** Starts a run: the trigger message and the run record (QUEUED) are written in one transaction. */
  start(store: Store, input: I, options?: StartOptions): Promise<RunHandle<O>>
  /** A handle on an existing run. */
  handle(store: Store, runId: number, messageId: number): RunHandle<O>
  /**
   * Checks `input` against the workflow's schema, ensures the workflow (once per store and
   * process) and resolves the options of `store.runs.start` (version, deadline): what `start`
   * does before it writes, for starts inside another write (`ctx.startChild`). @internal
   */
  prepare(
    store: Store,
    input: I,
    options?: StartOptions,
  ): Promise<{ readonly input: I; readonly options: StartRunOptions }>
  /** @internal */
  readonly body: (ctx: WorkflowContext, input: I) => Promise<O> | O
}

const ensuredByStore = new WeakMap<Store, Set<string>>()
/** Workflows this process already ensured on a store: start() does it once, not per call. */
function ensured(store: Store): Set<string> {
  let set = ensuredByStore.get(store)
  if (!set) {
    set = new Set()
    ensuredByStore.set(store, set)
  }
  return set
}

function checkInput<I>(schema: InputSchema<I> | undefined, input: unknown, name: string): I {
  if (!schema) return input as I
  try {
    return typeof schema === 'function' ? schema(input) : schema.parse(input)
  } catch (e) {
    throw new ValidationError(
      'input',
      input,
      `input accepted by the schema of workflow "${name}"`,
      `Invalid input for workflow "${name}": ${(e as Error).message}`,
    )
  }
}

/**
 * Defines a durable workflow.
 *
 * @example
 * ```ts
 * const archiveFiles = defineWorkflow({
 *   name: 'archive_files',
 *   async run(ctx, input: { path: string }) {
 *     const files = await ctx.step('list_files', () => listFiles(input.path))
 *     await ctx.sleep('cool_down', 60_000)
 *     return ctx.step('create_archive', () => zip(files))
 *   },
 * })
 * const handle = await archiveFiles.start(store, { path: '/tmp/report.csv' })
 * ```
 */
export function defineWorkflow<I = unknown, O = unknown>(
  options: WorkflowDefinitionOptions<I, O>,
): WorkflowDefinition<I, O> {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('options', 'defineWorkflow needs { name, run }')
  const name = validateName('workflow', options.name)
  if (typeof options.run !== 'function')
    throw new ConfigError('run', `workflow "${name}" needs a run(ctx, input) function`)
  const retry = resolveRetry(options.retry)
  const version = options.version ?? 1
  const queue = workflowQueue(name, version)
  const timeoutMs =
    options.timeoutMs === undefined
      ? undefined
      : validateInt('timeoutMs', options.timeoutMs, 1, MAX_WAIT_MS)
  const ensure = async (store: Store) => {
    await store.workflows.ensure(name)
    if (queue !== name) await store.queue(queue)
  }
  const prepare = async (store: Store, input: I, given: StartOptions = {}) => {
    const checked = checkInput(options.input, input, name)
    const startOptions = {
      ...given,
      version,
      ...(given?.deadline === undefined && timeoutMs !== undefined
        ? { deadline: new Date(Date.now() + timeoutMs) }
        : {}),
    }
    if (!ensured(store).has(queue)) {
      await ensure(store)
      ensured(store).add(queue)
    }
    return { input: checked, options: startOptions }
  }
  return Object.freeze({
    name,
    version,
    queue,
    retry,
    body: options.run,
    ensure,
    prepare,
    async start(store: Store, input: I, given: StartOptions = {}) {
      const { input: checked, options: startOptions } = await prepare(store, input, given)
      // a PRODUCER span whose trace context the run's message carries (telemetry.ts)
      const startRun = () =>
        traceStart(name, queue, (headers) =>
          store.runs.start(name, checked, headers ? { ...startOptions, headers } : startOptions),
        )
      try {
        const { run, message } = await startRun()
        return new RunHandle<O>(store, run.id, message.id)
      } catch (e) {
        if (!WorkflowNotFoundError.is(e)) throw e
        // dropped since we ensured it (a purge or a test reset): ensure again, once
        ensured(store).delete(queue)
        await ensure(store)
        const { run, message } = await startRun()
        return new RunHandle<O>(store, run.id, message.id)
      }
    },
    handle(store: Store, runId: number, messageId: number) {
      return new RunHandle<O>(store, runId, messageId)
    },
  })
}
