import { LeaseLostError } from '@pgqrs/core'
import { CancelledError, Suspend } from './errors.js'
import { ChildRun, type StartChildOptions } from './child.js'
import type { WorkflowDefinition } from './define.js'
import type { Run, StepFunction, StepOptions, WaitForEventOptions } from './run.js'
import type { DeliveryTelemetry } from './telemetry.js'

/**
 * What a workflow body gets: its run's identity, an abort signal, and the durable primitives.
 * Everything else of the run (its status changes, its message) is the engine's.
 */
export interface WorkflowContext {
  /** The run's id. */
  readonly runId: number
  /** The workflow's name. */
  readonly workflow: string
  /** The workflow version the run was started for (`defineWorkflow({ version })`, default 1). */
  readonly version: number
  /**
   * Deliveries of the run's message so far, this one included: 1 normally, more after a worker
   * crashed or lost its lease while running this run (sleeps, pauses and step retries do not count).
   */
  readonly attempt: number
  /** Aborted when the worker stops (after its grace period) or loses the run's lease. */
  readonly signal: AbortSignal
  /**
   * A memoised step: the first time, runs `fn` and stores its result; on replay, returns the
   * stored result without calling `fn`. Repeated names get an occurrence suffix (`name#2`).
   * Failures follow the retry policy. Let what it throws pass (rethrow what you do not handle):
   * the engine suspends the run by throwing. `fn(tx, { signal })`: `tx` is the transaction of a
   * transactional step; `signal` is aborted at the step's `timeoutMs` or the run's deadline.
   */
  step<T>(name: string, fn: StepFunction<T>, options?: StepOptions): Promise<T>
  /** A durable sleep: the run holds no worker while it sleeps and wakes after `ms`, also across restarts. */
  sleep(name: string, ms: number): Promise<void>
  /**
   * Waits for event `name` sent to this run (`sendEvent(store, runId, name, payload)` or
   * `handle.send(name, payload)`) and returns its payload, or `undefined` after `timeoutMs`
   * (default: no timeout). The run holds no worker slot while it waits; an event sent before the
   * wait is kept for it, and each event is taken by exactly one wait.
   */
  waitForEvent<T = unknown>(name: string, options?: WaitForEventOptions): Promise<T | undefined>
  /**
   * Publishes `value` under `key` (latest wins), for `handle.getEvent(key)` in any process:
   * progress, an approval URL, a partial result.
   */
  setEvent(key: string, value: unknown): Promise<void>
  /**
   * A patch marker for changing code under running runs: true where the run reaches this point
   * with the new code, false where its stored history already went past it without the patch.
   * `if (await ctx.patched('sms')) await ctx.step('send_sms', …)`.
   */
  patched(id: string): Promise<boolean>
  /**
   * Starts a child run of `workflow` with `input`, exactly once per call site, also across crashes
   * and replays (a memoised step, key `child:<workflow>`): the same child every time.
   * `await child.result()` suspends this run (no worker slot held, nothing polls) until the child
   * ends and returns its output, or throws `ChildWorkflowFailedError` (ERROR or CANCELLED).
   * Cancelling this run cancels its unfinished children. Start many, then
   * `await Promise.all(children.map((c) => c.result()))`.
   */
  startChild<I, O>(
    workflow: WorkflowDefinition<I, O>,
    input: I,
    options?: StartChildOptions,
  ): Promise<ChildRun<O>>
}

/** An engine signal thrown out of `step`/`sleep`, with the step that threw it. */
export interface Interrupt {
  readonly error: Suspend | CancelledError | LeaseLostError
  readonly step: string
}

/** True for what the engine throws to stop a body (not the body's own errors). @internal */
export function isInterrupt(e: unknown): e is Interrupt['error'] {
  return e instanceof Suspend || CancelledError.is(e) || LeaseLostError.is(e)
}

const NEVER = new AbortController().signal

/**
 * The {@link WorkflowContext} of one delivery. It remembers the first engine signal its `step` or
 * `sleep` threw (a suspension, a cancel, a lost lease): after that every call throws it again (the
 * body cannot run more steps past it), and the engine checks, once the body is done, that the
 * signal got out of the body. @internal
 */
export class DeliveryContext implements WorkflowContext {
  readonly #run: Run
  readonly #handler: { readonly signal: AbortSignal } | undefined
  readonly #telemetry: DeliveryTelemetry | null
  readonly attempt: number
  #interrupt: Interrupt | null = null
  /** Calls of step/sleep/wait still running (parallel steps: `Promise.all`). */
  readonly #inflight = new Set<Promise<unknown>>()

  /**
   * `handler`: the queue worker's handler context, whose signal is made only when read;
   * `telemetry`: the delivery's spans (null: none).
   */
  constructor(
    run: Run,
    handler: { readonly signal: AbortSignal } | undefined,
    telemetry: DeliveryTelemetry | null = null,
  ) {
    this.#run = run
    this.#handler = handler
    this.#telemetry = telemetry
    this.attempt = Math.max(1, run.message.attempts)
  }

  get signal(): AbortSignal {
    return this.#handler?.signal ?? NEVER
  }

  get runId(): number {
    return this.#run.id
  }

  get workflow(): string {
    return this.#run.record.workflow
  }

  get version(): number {
    return this.#run.record.version
  }

  /** The run's deadline in epoch ms, or null. */
  get deadline(): number | null {
    return this.#run.deadline
  }

  /** The first engine signal thrown to the body, if any. */
  get interrupt(): Interrupt | null {
    return this.#interrupt
  }

  #guard<T>(step: string, call: () => Promise<T>): Promise<T> {
    const running = this.#run1(step, call)
    this.#inflight.add(running)
    const forget = () => this.#inflight.delete(running)
    running.then(forget, forget)
    return running
  }

  async #run1<T>(step: string, call: () => Promise<T>): Promise<T> {
    if (this.#interrupt) throw this.#interrupt.error
    try {
      return await call()
    } catch (e) {
      if (isInterrupt(e)) this.#interrupt ??= { error: e, step }
      throw e
    }
  }

  /**
   * Waits until no step, sleep or wait of this delivery is running: the body may have ended (a
   * sibling of a `Promise.all` threw) while others still run; their results are recorded before
   * the delivery settles, so a replay does not run them again.
   */
  async drain(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight])
  }

  step<T>(name: string, fn: StepFunction<T>, options?: StepOptions): Promise<T> {
    const t = this.#telemetry
    if (!t) return this.#guard(name, () => this.#run.step(name, fn, options))
    return this.#guard(name, () =>
      t.step(this.#run.nextKey(name), name, fn, (traced) => this.#run.step(name, traced, options)),
    )
  }

  sleep(name: string, ms: number): Promise<void> {
    const t = this.#telemetry
    if (!t) return this.#guard(name, () => this.#run.sleep(name, ms))
    return this.#guard(name, () =>
      t.sleep(this.#run.nextKey(name), ms, () => this.#run.sleep(name, ms)),
    )
  }

  waitForEvent<T = unknown>(name: string, options?: WaitForEventOptions): Promise<T | undefined> {
    const t = this.#telemetry
    const key = `wait:${String(name)}`
    if (!t) return this.#guard(key, () => this.#run.waitForEvent<T>(name, options))
    return this.#guard(key, () =>
      t.wait(this.#run.nextKey(key), String(name), () => this.#run.waitForEvent<T>(name, options)),
    )
  }

  setEvent(key: string, value: unknown): Promise<void> {
    return this.#guard(`set:${String(key)}`, () => this.#run.setEvent(key, value))
  }

  patched(id: string): Promise<boolean> {
    return this.#guard(`patch:${String(id)}`, () => this.#run.patched(id))
  }

  async startChild<I, O>(
    workflow: WorkflowDefinition<I, O>,
    input: I,
    options?: StartChildOptions,
  ): Promise<ChildRun<O>> {
    const started = await this.#guard(`child:${String(workflow?.name)}`, () =>
      this.#run.startChild(workflow, input, options),
    )
    // result() goes through this context too: its suspension is the delivery's interrupt
    const ref = { runId: started.id, messageId: started.messageId, workflow: started.workflow }
    return new ChildRun<O>(ref, () =>
      this.#guard(`await:${started.id}`, () => this.#run.awaitChild<O>(started.id)),
    )
  }

  /** Child runs this delivery awaits that had not ended when it looked. */
  get awaitingChildren(): readonly number[] {
    return this.#run.awaitingChildren
  }
}
