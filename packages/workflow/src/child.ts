import { type RunStatus, TERMINAL_RUN_STATUSES, ValidationError } from '@pgqrs/core'
import { ChildWorkflowFailedError } from './errors.js'

/** Options of `ctx.startChild` (and `Run.startChild`). */
export interface StartChildOptions {
  /**
   * The child's idempotency key among its workflow's runs (default: one derived from the parent
   * run and the call site, so each call site starts its child exactly once). A key that a run
   * which is not a child of this parent already holds is a `ConflictError`.
   */
  readonly idempotencyKey?: string
  readonly delayMs?: number
  readonly priority?: number
  /** Past this instant the child ends ERROR with a `TimeoutError` (default: the child workflow's `timeoutMs`). */
  readonly deadline?: Date
}

/** What the parent's `child:<workflow>` step stores: the child it started. @internal */
export interface ChildRef {
  readonly runId: number
  readonly messageId: number
  readonly workflow: string
}

/** What the parent's `await:<child id>` step stores: how the child ended. @internal */
export type ChildOutcome = { readonly workflow: string } & (
  | { readonly status: 'SUCCESS'; readonly output: unknown }
  | { readonly status: 'ERROR' | 'CANCELLED'; readonly error: unknown }
)

/**
 * A child run started by `ctx.startChild`: its ids, and `result()`, which suspends the parent
 * until the child ends.
 */
export class ChildRun<O = unknown> {
  /** The child's run id (the same on every replay of the parent). */
  readonly id: number
  /** The child's trigger message. */
  readonly messageId: number
  /** The child's workflow name. */
  readonly workflow: string
  readonly #result: () => Promise<O>

  /** @internal made by `ctx.startChild` / `Run.startChild` */
  constructor(ref: ChildRef, result: () => Promise<O>) {
    this.id = ref.runId
    this.messageId = ref.messageId
    this.workflow = ref.workflow
    this.#result = result
  }

  /**
   * The child's output. While the child runs, the parent sleeps (its message is released, it
   * holds no worker slot, nothing polls) and the child's end wakes it (NOTIFY on Postgres).
   * Throws {@link ChildWorkflowFailedError} when the child ended ERROR or CANCELLED. Memoised
   * like a step (key `await:<child id>`): a replay returns (or throws) what the first call got.
   */
  result(): Promise<O> {
    return this.#result()
  }
}

/** The stored `child:<workflow>` step output as a {@link ChildRef}. @internal */
export function toChildRef(output: unknown): ChildRef {
  const o = output as Partial<ChildRef> | null
  if (
    typeof o !== 'object' ||
    o === null ||
    !Number.isInteger(o.runId) ||
    !Number.isInteger(o.messageId) ||
    typeof o.workflow !== 'string'
  )
    throw new ValidationError(
      'step output',
      output,
      '{ runId, messageId, workflow } of a child run',
    )
  return { runId: o.runId!, messageId: o.messageId!, workflow: o.workflow }
}

/** The outcome of a child in `status`, or null while it runs. @internal */
export function childOutcome(run: {
  readonly workflow: string
  readonly status: RunStatus
  readonly output: unknown
  readonly error: unknown
}): ChildOutcome | null {
  const { workflow, status } = run
  if (!TERMINAL_RUN_STATUSES.includes(status)) return null
  if (status === 'SUCCESS') return { workflow, status, output: run.output ?? null }
  return {
    workflow,
    status: status as 'ERROR' | 'CANCELLED',
    error: status === 'ERROR' ? (run.error ?? null) : null,
  }
}

/** Returns a child's output, or throws its failure. @internal */
export function settleChild<O>(childId: number, outcome: ChildOutcome): O {
  if (outcome.status === 'SUCCESS') return outcome.output as O
  throw new ChildWorkflowFailedError(childId, outcome.workflow, outcome.status, outcome.error)
}
