/**
 * Messages between the queue-worker suite and its worker children
 * (`dist/queue-worker/children/worker.js`). A child gets one JSON argument
 * ({@link WorkerChildArgs}), connects with `connect(dsn, config)`, starts a `worker()` over the
 * queue, appends the id of every message its handler receives to `logFile` (one per line, written
 * synchronously so that it survives SIGKILL) and says `started`; on `stop` it stops the worker
 * and says `stopped`.
 */
import type { PgqrsConfig } from '@pgqrs/core'

/** The JSON argument of a worker child. */
export interface WorkerChildArgs {
  readonly dsn: string
  readonly config: PgqrsConfig
  readonly queue: string
  readonly name: string
  readonly concurrency: number
  readonly batchSize: number
  readonly leaseMs: number
  readonly pollIntervalMs: number
  /** File the child appends handled message ids to, one per line. */
  readonly logFile: string
  /** The limits child: how long its handler holds each message, in ms. */
  readonly holdMs?: number
}

/** What a worker child reports. */
export type WorkerChildMessage =
  | { readonly type: 'started'; readonly workerId: number }
  | { readonly type: 'stopped'; readonly handled: number; readonly errors: readonly string[] }
  | { readonly type: 'error'; readonly message: string; readonly stack?: string }

/** What the parent sends. */
export type WorkerParentMessage = { readonly type: 'stop' }
