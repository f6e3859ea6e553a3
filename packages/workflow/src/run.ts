import {
  type AcquiredStep,
  ConflictError,
  InvalidStateTransitionError,
  LeaseLostError,
  NotFoundError,
  listAll,
  type QueueMessage,
  type RunRecord,
  type RunStatus,
  type StepRecord,
  type Store,
  TERMINAL_RUN_STATUSES,
  TimeoutError,
  validateEventName,
  validateInt,
  validateName,
  ValidationError,
} from '@pgqrs/core'
import {
  type ChildOutcome,
  type ChildRef,
  ChildRun,
  childOutcome,
  type StartChildOptions,
  settleChild,
  toChildRef,
} from './child.js'
import type { WorkflowDefinition } from './define.js'
import {
  CancelledError,
  MAX_WAIT_MS,
  NonDeterminismError,
  NonRetryableError,
  PausedError,
  Suspend,
  serialiseError,
  TransientStepError,
} from './errors.js'
import { resolveRetry, retryDelay, type StepRetryPolicy } from './retry.js'

/** Options of {@link Run.waitForEvent}. */
export interface WaitForEventOptions {
  /**
   * Give up after this many ms: the wait then returns `undefined` (a timeout is not an error and
   * does not retry the run). Default: no timeout (the run waits as long as it takes).
   */
  readonly timeoutMs?: number
}

/** Options of {@link Run.step}. */
export interface StepOptions {
  /** Run `fn` in a transaction (`fn(tx)` gets the Kysely transaction); the step's completion commits with your writes. */
  readonly transactional?: boolean
  /** Retry policy of this step (default: the workflow's). */
  readonly retry?: Partial<StepRetryPolicy>
  /**
   * Abort an execution of the step after this many ms: its `signal` (the second argument of
   * `fn`) is aborted and the execution fails with a `TimeoutError`, which the retry policy then
   * handles like any other failure. A run's deadline also bounds each step.
   */
  readonly timeoutMs?: number
}

/** The second argument of a step function. */
export interface StepContext {
  /** Aborted when the step's `timeoutMs` (or the run's deadline) passes. */
  readonly signal: AbortSignal
}

/** A step function: `tx` is the transaction of a transactional step (undefined otherwise). */
export type StepFunction<T> = (tx: any, step: StepContext) => T | Promise<T>

const NEVER_ABORTED = new AbortController().signal

/**
 * Calls `fn` with a signal that is aborted after `ms` (when given): the returned promise then
 * rejects with a `TimeoutError` naming the step, whatever `fn` does with the signal.
 */
function callStep<T>(
  fn: StepFunction<T>,
  tx: unknown,
  ms: number | undefined,
  key: string,
): Promise<T> {
  if (ms === undefined) return Promise.resolve().then(() => fn(tx, { signal: NEVER_ABORTED }))
  const ac = new AbortController()
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const e = new TimeoutError(`step ${key}`, ms)
      ac.abort(e)
      reject(e)
    }, ms)
    Promise.resolve()
      .then(() => fn(tx, { signal: ac.signal }))
      .then(
        (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        (e: unknown) => {
          clearTimeout(timer)
          reject(e)
        },
      )
  })
}

/** What {@link Run.acquireStep} returns: run the step (`EXECUTE`) or use its stored `output` (`SKIP`). */
export interface StepAcquisition<T = unknown> {
  readonly status: 'EXECUTE' | 'SKIP'
  readonly output: T | undefined
  readonly guard: StepGuard<T>
}

/** Records the outcome of an acquired step. */
export interface StepGuard<T = unknown> {
  /** Stores the step's output (SUCCESS). */
  success(output: T): Promise<void>
  /** Records a failure: retried later under the policy when transient, otherwise final. */
  fail(error: unknown): Promise<void>
}

const now = () => Date.now()

/** A step on the fast path that runs longer than this is stored as RUNNING while it runs. */
const RUNNING_MARK_MS = 100

/**
 * One delivery of a workflow run, for the low-level API (the seeds' `run().message(m).store(s)`):
 * the run's status changes, its steps and its message. Workflow bodies get the narrower
 * `WorkflowContext`. Every write is fenced by the lease of the run's message, so a worker that
 * lost its lease can neither record a step nor complete the run.
 */
export class Run {
  readonly store: Store
  readonly message: QueueMessage
  /** The lease token of the message this delivery holds (null for operator use). */
  readonly lease: string | null
  #record: RunRecord
  readonly #policy: StepRetryPolicy
  readonly #occurrences = new Map<string, number>()
  /** This delivery began after a sleep or pause ended: the first unfinished wait is over. */
  #resumed: boolean
  /**
   * The run was QUEUED when this delivery opened it, so no step of it is stored (runs never go back
   * to QUEUED, and every step write follows a start): a step needs no acquire, its result is
   * recorded in one statement (`StepRepository.record`, where the store has it), which also
   * reports a cancel. A store without `record` takes the general path (acquire, then complete).
   */
  #fresh: boolean
  /**
   * The run's status as seen by this delivery's last write, while that observation is current:
   * from the write's result until the process next leaves the microtask queue (any awaited I/O or
   * timer). Back-to-back steps thus need no status read at their boundary; after a pause they read.
   */
  #seen: RunStatus | null = null
  /** Step keys this delivery asked for so far (in call order). */
  readonly #requested = new Set<string>()
  /** The keys stored before this delivery, in the order they were first started (loaded once). */
  #stored: Promise<string[]> | null = null
  #observations = 0
  #seenWrites = 0
  /** Child runs this delivery awaits that had not ended when it looked. */
  readonly #awaiting = new Set<number>()

  /** @internal use {@link Run.open} or `run().message(m).store(s).execute()` */
  constructor(
    store: Store,
    message: QueueMessage,
    record: RunRecord,
    policy?: Partial<StepRetryPolicy>,
  ) {
    this.store = store
    this.message = message
    this.lease = message.lease
    this.#record = record
    this.#policy = resolveRetry(policy)
    this.#resumed = record.status === 'SLEEPING' || record.status === 'PAUSED'
    this.#fresh = record.status === 'QUEUED'
  }

  /** Gets or creates the run of a delivered workflow message. */
  static async open(
    store: Store,
    message: QueueMessage,
    policy?: Partial<StepRetryPolicy>,
  ): Promise<Run> {
    return new Run(store, message, await store.runs.getOrCreateForMessage(message), policy)
  }

  /** The run id. */
  get id(): number {
    return this.#record.id
  }

  /** The run as last read or written by this delivery. */
  get record(): RunRecord {
    return this.#record
  }

  /** The workflow input (the message payload's `input`). */
  get input(): unknown {
    return this.#record.input
  }

  /** Re-reads the run. */
  async refresh(): Promise<RunRecord> {
    const r = await this.store.runs.get(this.id)
    if (r) this.#record = r
    return this.#record
  }

  /** Moves the run to RUNNING (QUEUED, PAUSED, SLEEPING or RUNNING before). */
  async start(): Promise<RunRecord> {
    this.#record = await this.store.runs.transition(this.id, { to: 'RUNNING', lease: this.lease })
    this.#observe(this.#record.status)
    return this.#record
  }

  /**
   * The run status seen by this delivery's last write, if that observation is still current: no
   * I/O or timer was awaited since, and no write started through this store since (a write through
   * a synchronous driver, such as an in-process `cancelRun` on SQLite, runs in microtasks). A
   * store without `writeCount` gives no such guarantee: then there is no current observation.
   */
  #current(): RunStatus | null {
    const writes = this.store.writeCount?.()
    return writes !== undefined && this.#seenWrites === writes ? this.#seen : null
  }

  /**
   * Keeps `status` as the current observation until the microtask queue drains: a `nextTick`
   * callback runs only after every promise continuation queued so far (and those they queue), so
   * it clears the observation exactly when the process turns to I/O or timers.
   */
  #observe(status: RunStatus): void {
    this.#seen = status
    this.#seenWrites = this.store.writeCount?.() ?? -1
    const generation = ++this.#observations
    process.nextTick(() => {
      if (this.#observations === generation) this.#seen = null
    })
  }

  async #ensureRunning(): Promise<void> {
    if (this.#record.status !== 'RUNNING') await this.start()
  }

  /** Completes the run with `output` (SUCCESS). */
  async complete(output?: unknown): Promise<RunRecord> {
    await this.#ensureRunning()
    this.#record = await this.store.runs.transition(this.id, {
      to: 'SUCCESS',
      output,
      lease: this.lease,
    })
    return this.#record
  }

  /** Fails the run (ERROR) with the serialised `error`. */
  async fail(error: unknown): Promise<RunRecord> {
    await this.#ensureRunning()
    this.#record = await this.store.runs.transition(this.id, {
      to: 'ERROR',
      error: serialiseError(error),
      lease: this.lease,
    })
    return this.#record
  }

  /** Throws `CancelledError` (after finalising CANCELLED) when the run is being cancelled. */
  async checkCancelled(): Promise<void> {
    const r = await this.refresh()
    if (r.status === 'CANCELLING') {
      this.#record = await this.store.runs.transition(this.id, {
        to: 'CANCELLED',
        lease: this.lease,
      })
      throw new CancelledError(this.id)
    }
    if (r.status === 'CANCELLED') throw new CancelledError(this.id)
  }

  /** The run's deadline in epoch ms, or null. */
  get deadline(): number | null {
    return this.#record.deadline ? this.#record.deadline.getTime() : null
  }

  /** True when the run has a deadline and it has passed. */
  get overdue(): boolean {
    const d = this.deadline
    return d !== null && d <= now()
  }

  /** The error an overdue run ends with. */
  deadlineError(): TimeoutError {
    const d = this.#record.deadline!
    return new TimeoutError(
      `run ${this.id} (deadline ${d.toISOString()})`,
      Math.max(0, d.getTime() - this.#record.createdAt.getTime()),
    )
  }

  /** The timeout of one execution of a step: its own, bounded by the run's deadline. */
  #stepTimeout(timeoutMs: number | undefined): number | undefined {
    const own =
      timeoutMs === undefined ? undefined : validateInt('timeoutMs', timeoutMs, 1, MAX_WAIT_MS)
    const d = this.deadline
    if (d === null) return own
    const left = Math.max(1, d - now())
    return own === undefined ? left : Math.min(own, left)
  }

  /** The key of the next use of `name` in this delivery: `name`, then `name#2`, `name#3`, … */
  #key(name: string): string {
    validateName('step', name)
    const key = this.nextKey(name)
    this.#occurrences.set(name, (this.#occurrences.get(name) ?? 0) + 1)
    this.#requested.add(key)
    return key
  }

  /** The key the next step or sleep named `name` gets in this delivery (nothing is taken). @internal */
  nextKey(name: string): string {
    const n = (this.#occurrences.get(name) ?? 0) + 1
    return n === 1 ? name : `${name}#${n}`
  }

  /** The step keys stored before this delivery (none for a run's first delivery: no read). */
  #storedKeys(): Promise<string[]> {
    if (this.#fresh) return Promise.resolve([])
    this.#stored ??= listAll(
      (page) => this.store.steps.list(this.id, page),
      (step) => step.id,
    ).then((steps) => steps.map((s) => s.stepKey))
    return this.#stored
  }

  /**
   * Replay check: a key the stored history lacks, while stored keys this delivery has not asked
   * for remain, means the code diverged from the history: `NonDeterminismError` naming both.
   */
  async #checkReplay(key: string): Promise<void> {
    if (this.#fresh) return
    const stored = await this.#storedKeys()
    if (stored.length === 0 || stored.includes(key)) return
    const expected = stored.find((k) => !this.#requested.has(k))
    if (expected !== undefined) throw new NonDeterminismError(this.id, expected, key)
  }

  /**
   * A patch marker for changing workflow code under running runs: true where the run reaches this
   * point with the new code (it records marker `patch:<id>`), false where the run's stored history
   * already went past this point without it (an older run replaying). Branch on it:
   * `if (await ctx.patched('sms')) await ctx.step('send_sms', …)`.
   */
  async patched(id: string): Promise<boolean> {
    const key = `patch:${validateName('step', id)}`
    validateName('step', key)
    await this.#ensureRunning()
    const stored = await this.#storedKeys()
    if (!stored.includes(key) && stored.some((k) => !this.#requested.has(k))) return false
    this.#requested.add(key)
    const step = await this.#acquire(key)
    if (step.status !== 'SUCCESS') await this.#complete(key, true)
    return true
  }

  /**
   * Low-level (the seeds' API): acquires step `key` as stored. `SKIP` returns the stored output of a
   * completed step; `EXECUTE` means run it and report through the guard.
   */
  async acquireStep<T = unknown>(
    key: string,
    options: { retry?: Partial<StepRetryPolicy> } = {},
  ): Promise<StepAcquisition<T>> {
    validateName('step', key)
    await this.#ensureRunning()
    const step = await this.#acquire(key)
    const policy = resolveRetry(options.retry, this.#policy)
    const guard: StepGuard<T> = {
      success: async (output) => {
        if (!(await this.store.steps.complete(this.id, key, output, this.lease))) {
          throw new LeaseLostError(this.message.id, `complete step ${key}`)
        }
      },
      fail: async (error) => {
        try {
          await this.#recordFailure(key, step, error, policy, false)
        } catch (e) {
          // Low-level callers schedule the retry themselves (release the message until step.retryAt).
          if (!(e instanceof Suspend)) throw e
        }
      },
    }
    if (step.status === 'SUCCESS') return { status: 'SKIP', output: step.output as T, guard }
    return { status: 'EXECUTE', output: undefined, guard }
  }

  /** Acquires a step; an ERROR step is retried when due, suspends until due, or fails for good. */
  async #acquire(key: string): Promise<StepRecord> {
    const { step, runStatus } = await this.store.steps.acquire(this.id, key, this.lease)
    // Every step is a cancellation boundary; the acquire statement reports the run's status.
    if (runStatus === 'CANCELLING') {
      this.#record = await this.store.runs.transition(this.id, {
        to: 'CANCELLED',
        lease: this.lease,
      })
      throw new CancelledError(this.id)
    }
    if (runStatus === 'CANCELLED' || !step) throw new CancelledError(this.id)
    if (step.status !== 'ERROR') return step
    if (step.retryAt === null) {
      const e = step.error as { message?: string } | undefined
      throw new NonRetryableError(`step ${key} failed: ${e?.message ?? 'unknown error'}`)
    }
    // A step that paused the run (pauseError) runs again as soon as the run was woken, even early
    // by admin.resumeRun; other retries wait for their time.
    const pausedHere = (step.error as { name?: string } | undefined)?.name === 'PausedError'
    const early = pausedHere && this.#resumed
    if (early) this.#resumed = false
    if (!early && step.retryAt.getTime() > now())
      throw new Suspend(step.retryAt.getTime(), 'RUNNING', key, 'retry')
    if (!(await this.store.steps.retry(this.id, key, this.lease, { early }))) {
      throw new LeaseLostError(this.message.id, `retry step ${key}`)
    }
    return { ...step, status: 'RUNNING' }
  }

  /**
   * Records a step failure. Pauses suspend the run; transient errors (or any error while retries are
   * left) schedule a retry and suspend; the rest fail the step for good and are re-thrown.
   */
  async #recordFailure(
    key: string,
    step: StepRecord,
    error: unknown,
    policy: StepRetryPolicy,
    rethrow: boolean,
  ): Promise<never | void> {
    if (error instanceof Suspend || CancelledError.is(error) || LeaseLostError.is(error))
      throw error
    const stored = serialiseError(error)
    if (this.overdue) {
      // past the run's deadline: no retry, the run ends ERROR with its TimeoutError
      await this.#failStep(key, stored, null)
      throw this.deadlineError()
    }
    if (PausedError.is(error)) {
      const until = now() + error.resumeAfterMs
      await this.#failStep(key, stored, new Date(until))
      throw new Suspend(until, 'PAUSED', key, 'pause', {
        message: error.message,
        resumeAfterMs: error.resumeAfterMs,
      })
    }
    // maxAttempts counts executions, as a message's maxAttempts counts deliveries.
    const executions = step.retryCount + 1
    if (!NonRetryableError.is(error) && executions < policy.maxAttempts) {
      const delay = retryDelay(
        policy,
        step.retryCount,
        TransientStepError.is(error) ? error.retryAfterMs : undefined,
      )
      const until = now() + delay
      await this.#failStep(key, stored, new Date(until))
      throw new Suspend(until, 'RUNNING', key, 'retry')
    }
    await this.#failStep(key, stored, null)
    if (rethrow) throw error
  }

  async #failStep(key: string, stored: unknown, retryAt: Date | null): Promise<void> {
    if (!(await this.store.steps.fail(this.id, key, stored, retryAt, this.lease))) {
      throw new LeaseLostError(this.message.id, `fail step ${key}`)
    }
  }

  /**
   * A memoised step: the first time, runs `fn` and stores its result; on replay, returns the stored
   * result without calling `fn`. Repeated names get an occurrence suffix (`name#2`), so loops work.
   * Failures follow the retry policy (the message waits, invisible, until the retry is due).
   */
  async step<T>(name: string, fn: StepFunction<T>, options: StepOptions = {}): Promise<T> {
    const key = this.#key(name)
    const timeoutMs = this.#stepTimeout(options?.timeoutMs)
    if (this.overdue) throw this.deadlineError()
    await this.#checkReplay(key)
    await this.#ensureRunning()
    if (
      this.#fresh &&
      !options.transactional &&
      this.store.steps.record &&
      this.#current() === 'RUNNING'
    ) {
      return this.#freshStep(key, fn, options, timeoutMs)
    }
    const step = await this.#acquire(key)
    if (step.status === 'SUCCESS') return step.output as T
    const policy = resolveRetry(options.retry, this.#policy)
    let output: T
    try {
      if (options.transactional) {
        output = await this.store.transaction(async (tx) => {
          const value = await callStep(fn, tx.db, timeoutMs, key)
          if (!(await tx.steps.complete(this.id, key, value, this.lease))) {
            throw new LeaseLostError(this.message.id, `complete step ${key}`)
          }
          return value
        })
        return output
      }
      output = await callStep(fn, undefined, timeoutMs, key)
    } catch (error) {
      return this.#recordFailure(key, step, error, policy, true) as never
    }
    return this.#complete(key, output)
  }

  /**
   * Records the result of a step run without acquire. False when a row for the key turned up
   * after all (an operator's concurrent `Run` with no lease): the caller then takes the general path.
   */
  async #freshRecord(key: string, output: unknown, startedAt: number): Promise<boolean> {
    const r = await this.store.steps.record!(
      this.id,
      key,
      output,
      this.lease,
      Math.max(0, now() - startedAt),
    )
    this.#observe(r.runStatus)
    return r.written
  }

  /**
   * `step()` on a run's first delivery right after a write that saw the run RUNNING (that write was
   * the step boundary): `fn`, then one write. A step still running after {@link RUNNING_MARK_MS}
   * is stored as RUNNING meanwhile (a plain acquire), so long steps show in `admin.steps()` and
   * crash recovery reports them. A failure takes the general path (acquire, then the retry policy).
   */
  async #freshStep<T>(
    key: string,
    fn: StepFunction<T>,
    options: StepOptions,
    timeoutMs: number | undefined,
  ): Promise<T> {
    const startedAt = now()
    let marking: Promise<AcquiredStep> | null = null
    const timer = setTimeout(() => {
      marking = this.store.steps.acquire(this.id, key, this.lease)
      marking.catch(() => {}) // awaited below
    }, RUNNING_MARK_MS)
    let output: T
    try {
      output = await callStep(fn, undefined, timeoutMs, key)
    } catch (error) {
      clearTimeout(timer)
      const step = marking ? (await (marking as Promise<AcquiredStep>)).step : null
      const acquired = step ?? (await this.#acquire(key))
      if (acquired.status === 'SUCCESS') return acquired.output as T
      const policy = resolveRetry(options.retry, this.#policy)
      return this.#recordFailure(key, acquired, error, policy, true) as never
    }
    clearTimeout(timer)
    if (marking) {
      // Marked RUNNING meanwhile (or not, when a cancel came: then the step is simply recorded).
      const { step } = await (marking as Promise<AcquiredStep>)
      if (step?.status === 'SUCCESS') return step.output as T
      if (step) return this.#complete(key, output)
    }
    if (await this.#freshRecord(key, output, startedAt)) return output
    const step = await this.#acquire(key)
    if (step.status === 'SUCCESS') return step.output as T
    return this.#complete(key, output)
  }

  /** Stores the output of an acquired (RUNNING) step; `LeaseLostError` when the fence refuses. */
  async #complete<T>(key: string, output: T): Promise<T> {
    if (!(await this.store.steps.complete(this.id, key, output, this.lease))) {
      throw new LeaseLostError(this.message.id, `complete step ${key}`)
    }
    return output
  }

  /**
   * A durable sleep: the run becomes SLEEPING and its message comes back after `ms`; no process is
   * held, and a restart does not shorten or lengthen it. `admin.resumeRun(id)` wakes it early.
   */
  async sleep(name: string, ms: number): Promise<void> {
    validateInt('ms', ms, 0, MAX_WAIT_MS)
    const key = this.#key(name)
    await this.#checkReplay(key)
    await this.#ensureRunning()
    if (this.#fresh && this.store.steps.record && this.#current() === 'RUNNING') {
      const wakeAt = now() + ms
      if (await this.#freshRecord(key, { wakeAt }, now())) {
        if (ms === 0) return
        throw new Suspend(wakeAt, 'SLEEPING', key, 'sleep')
      }
    }
    const step = await this.#acquire(key)
    if (step.status === 'SUCCESS') {
      const wakeAt = Number((step.output as { wakeAt?: number } | undefined)?.wakeAt ?? 0)
      if (wakeAt <= now()) return
      if (this.#resumed) {
        this.#resumed = false
        return
      }
      throw new Suspend(wakeAt, 'SLEEPING', key, 'sleep')
    }
    const wakeAt = now() + ms
    if (!(await this.store.steps.complete(this.id, key, { wakeAt }, this.lease))) {
      throw new LeaseLostError(this.message.id, `sleep ${key}`)
    }
    if (ms === 0) return
    throw new Suspend(wakeAt, 'SLEEPING', key, 'sleep')
  }

  /**
   * Waits for event `name` sent to this run (`sendEvent`, `handle.send`) and returns its payload,
   * or `undefined` once `timeoutMs` has passed. An event sent before the wait is kept for it; each
   * event is taken by exactly one wait (the oldest pending one first). While it waits the run is
   * SLEEPING and its message is released until the timeout: no worker slot is held, nothing
   * polls, and a send wakes the message at once (NOTIFY on Postgres). Memoised like a step (key
   * `wait:<name>`, `#2`… when repeated): on replay it returns what the wait got the first time.
   * `admin.resumeRun` ends a wait early, as timed out.
   */
  async waitForEvent<T = unknown>(
    name: string,
    options: WaitForEventOptions = {},
  ): Promise<T | undefined> {
    validateEventName(name)
    const timeoutMs =
      options?.timeoutMs === undefined
        ? MAX_WAIT_MS
        : validateInt('timeoutMs', options.timeoutMs, 0, MAX_WAIT_MS)
    const key = this.#key(`wait:${name}`)
    await this.#checkReplay(key)
    await this.#ensureRunning()
    const step = await this.#acquire(key)
    if (step.status === 'SUCCESS') return waitResult<T>(step.output)
    const got = await this.store.events.consume(this.id, name, key, this.lease)
    if (got) return got.payload as T
    let deadline = step.retryAt?.getTime() ?? null
    let over = false
    if (deadline === null) {
      deadline = now() + timeoutMs
      if (
        timeoutMs > 0 &&
        !(await this.store.events.markWaiting(this.id, key, name, new Date(deadline), this.lease))
      )
        throw new LeaseLostError(this.message.id, `wait ${key}`)
    } else if (this.#resumed) {
      // woken by admin.resumeRun before the deadline with no event: the wait ends, timed out
      this.#resumed = false
      over = true
    }
    if (over || deadline <= now()) {
      await this.#complete(key, { received: false })
      return undefined
    }
    throw new Suspend(deadline, 'SLEEPING', key, 'event', undefined, name)
  }

  /**
   * Publishes `value` under `key` for readers of this run (`handle.getEvent(key)`, from any
   * process); the latest value wins. Memoised like a step (key `set:<key>`): a replay does not
   * publish an older value again.
   */
  async setEvent(key: string, value: unknown): Promise<void> {
    validateEventName(key, 'value key')
    const stepKey = this.#key(`set:${key}`)
    await this.#checkReplay(stepKey)
    await this.#ensureRunning()
    const step = await this.#acquire(stepKey)
    if (step.status === 'SUCCESS') return
    await this.store.transaction(async (tx) => {
      await tx.events.setValue(this.id, key, value, this.lease)
      if (!(await tx.steps.complete(this.id, stepKey, null, this.lease)))
        throw new LeaseLostError(this.message.id, `complete step ${stepKey}`)
    })
  }

  /**
   * Starts a child run of `workflow` with `input`, exactly once per call site (a memoised step,
   * key `child:<workflow>`, `#2`… when repeated): the child run (QUEUED, with this run as its
   * parent) and the step's completion commit in one transaction, and the child's idempotency key
   * (derived from this run and the step unless given) finds the same child on any replay. A child
   * of another version goes to that version's queue. Returns the {@link ChildRun}; its `result()`
   * is {@link Run.awaitChild}.
   */
  async startChild<I, O>(
    workflow: WorkflowDefinition<I, O>,
    input: I,
    options: StartChildOptions = {},
  ): Promise<ChildRun<O>> {
    if (typeof workflow?.prepare !== 'function')
      throw new ValidationError('workflow', workflow, 'a workflow definition from defineWorkflow')
    const key = this.#key(`child:${workflow.name}`)
    await this.#checkReplay(key)
    await this.#ensureRunning()
    const step = await this.#acquire(key)
    const child = (ref: ChildRef) => new ChildRun<O>(ref, () => this.awaitChild<O>(ref.runId))
    if (step.status === 'SUCCESS') return child(toChildRef(step.output))
    let prepared: Awaited<ReturnType<WorkflowDefinition<I, O>['prepare']>>
    try {
      prepared = await workflow.prepare(this.store, input, {
        ...options,
        idempotencyKey: options?.idempotencyKey ?? `pgqrs-child:${this.id}:${key}`,
      })
    } catch (e) {
      // a bad input (the child's schema) or key: a permanent failure of this step
      await this.#failStep(key, serialiseError(e), null)
      throw e
    }
    const ref = await this.store.transaction(async (tx) => {
      // This run's row first (a RUNNING → RUNNING write locks it): a cancel of this run either
      // committed before (refused here) or waits for this commit and then finds the child.
      try {
        await tx.runs.transition(this.id, { to: 'RUNNING', lease: this.lease })
      } catch (e) {
        if (
          InvalidStateTransitionError.is(e) &&
          (e.from === 'CANCELLING' || e.from === 'CANCELLED')
        )
          throw new CancelledError(this.id)
        throw e
      }
      const { run, message, created } = await tx.runs.start(workflow.name, prepared.input, {
        ...prepared.options,
        parent: { runId: this.id, stepKey: key },
      })
      if (!created && run.parentId !== this.id)
        throw new ConflictError(
          'run',
          String(prepared.options.idempotencyKey),
          `The idempotency key "${prepared.options.idempotencyKey}" of workflow "${workflow.name}" belongs to run ${run.id}, which is not a child of run ${this.id}: use another key (or none) for ctx.startChild`,
        )
      const started: ChildRef = { runId: run.id, messageId: message.id, workflow: workflow.name }
      if (!(await tx.steps.complete(this.id, key, started, this.lease)))
        throw new LeaseLostError(this.message.id, `complete step ${key}`)
      return started
    })
    return child(ref)
  }

  /**
   * Waits for child run `childId` (started by this run's {@link Run.startChild}) to end: returns
   * its output, or throws `ChildWorkflowFailedError` when it ended ERROR or CANCELLED. While the
   * child runs, this run suspends (SLEEPING, its message released, no worker slot held, nothing
   * polls); the child's end makes the message visible in the same transaction (NOTIFY on
   * Postgres). Memoised like a step (key `await:<child id>`): a replay gets the same outcome.
   */
  async awaitChild<O = unknown>(childId: number): Promise<O> {
    validateInt('childId', childId, 1)
    const key = this.#key(`await:${childId}`)
    await this.#checkReplay(key)
    await this.#ensureRunning()
    const step = await this.#acquire(key)
    if (step.status === 'SUCCESS') return settleChild<O>(childId, step.output as ChildOutcome)
    // this wait is where a woken run continues: the wake is not the end of some other wait
    this.#resumed = false
    const child = await this.store.runs.get(childId)
    if (!child) throw new NotFoundError('run', childId)
    if (child.parentId !== this.id)
      throw new ValidationError(
        'childId',
        childId,
        `a child of run ${this.id} (started by its startChild); run ${childId} is not`,
      )
    const outcome = childOutcome(child)
    if (outcome) {
      this.#awaiting.delete(childId)
      await this.#complete(key, outcome)
      return settleChild<O>(childId, outcome)
    }
    this.#awaiting.add(childId)
    throw new Suspend(now() + MAX_WAIT_MS, 'SLEEPING', key, 'child', undefined, undefined, childId)
  }

  /**
   * Children this delivery found unfinished in {@link Run.awaitChild}: when the run falls asleep,
   * the engine checks them once more in the same transaction (one that ended meanwhile wakes the
   * run at once, as its end found the run still leased). @internal
   */
  get awaitingChildren(): readonly number[] {
    return [...this.#awaiting]
  }

  /** True once the run is in a final state. */
  get terminal(): boolean {
    return TERMINAL_RUN_STATUSES.includes(this.#record.status as RunStatus)
  }
}

/** The seeds' step helper: `await workflowStep(ctx, 'name', async () => …)` is `ctx.step('name', …)`. */
export function workflowStep<T>(
  run: Pick<Run, 'step'>,
  name: string,
  fn: StepFunction<T>,
  options?: StepOptions,
): Promise<T> {
  return run.step(name, fn, options)
}

/** What a stored wait step returns: the event's payload, or undefined (timed out). */
function waitResult<T>(output: unknown): T | undefined {
  const o = output as { received?: boolean; payload?: unknown } | null
  return o?.received ? (o.payload as T) : undefined
}
