/**
 * Messages between the workflow crash tests and their worker children
 * (`dist/workflow/children/crash-worker.js`). A child gets one JSON argument
 * ({@link CrashChildArgs}), connects with `connect(dsn, config)`, runs `workflowWorker` over one
 * workflow and says `started`. With `crash`, it SIGKILLs itself at the planned point of the
 * workflow; otherwise it runs until the parent says `stop`, then stops the worker and says
 * `stopped`. Every step appends a line `<what> <pid>` to the input's `file` with a synchronous
 * write, so a SIGKILL cannot lose a line.
 */
import type { PgqrsConfig } from '@pgqrs/core'

/** Which workflow the child runs. */
export type CrashWorkflowKind =
  /** Steps one, two, three; with `crash`, the child dies at the start of step three. */
  | 'steps'
  /**
   * Step reserve, then the transactional step pay (inserts one row into `table`), then receipt;
   * with `crash`, the child dies inside pay after its insert, before the commit.
   */
  | 'transactional'
  /**
   * Step before, then `waitForEvent('approve')`, then step after (logs `after:<by>`); with
   * `crash`, the child dies once the run sleeps on the wait with its message released.
   */
  | 'event'
  /**
   * Step before, then 10 children (workflow `<workflow>-kid`, each a step work that logs
   * `work:<i>`) started with `Promise.all` and awaited with `Promise.all`, then step after; with
   * `crash`, the children's steps wait until the parent sleeps on them with its message released,
   * and the first to see it SIGKILLs the process.
   */
  | 'children'

/** The JSON argument of a crash child. */
export interface CrashChildArgs {
  readonly dsn: string
  readonly config: PgqrsConfig
  readonly workflow: string
  readonly kind: CrashWorkflowKind
  readonly crash: boolean
  readonly leaseMs: number
  readonly pollIntervalMs: number
  /** kind 'transactional': the table the pay step inserts into (next to the store's tables). */
  readonly table?: string
  /** kind 'transactional': the schema of that table (null: none), from the harness's `kysely()`. */
  readonly schema?: string | null
}

/** The input of the crash workflows. */
export interface CrashInput {
  /** The file every step appends its line to. */
  readonly file: string
}

/** What a crash child reports. */
export type CrashChildMessage =
  | { readonly type: 'started'; readonly pid: number }
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly message: string; readonly stack?: string }

/** What the parent sends. */
export type CrashParentMessage = { readonly type: 'stop' }
