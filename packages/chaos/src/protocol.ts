/**
 * IPC between the suite and the processes it forks. A child gets one JSON argument, says `ready`,
 * waits for `go`, works, reports what it does as it does it (phases, leases it was granted, errors)
 * and, on `stop`, stops its workers gracefully and says `stopped`.
 */
import type { PgqrsConfig } from '@pgqrs/core'

/** Where a worker child is when it reports; the suite kills or pauses children on these. */
export type Phase =
  | 'dequeue' // about to claim messages
  | 'handler' // inside a queue handler (after its log line)
  | 'archive' // about to archive finished messages
  | 'step' // inside a plain workflow step (after its log line)
  | 'step-complete' // about to record a step's completion
  | 'tx-step' // inside a transactional step, after its INSERT, before the commit
  | 'transaction' // about to open a store transaction (run completion, transactional step)
  | 'stall' // an armed stall began: every store call of the child waits until it ends

/** The JSON argument of a worker child (children/worker.ts). */
export interface WorkerChildArgs {
  readonly dsn: string
  readonly config: PgqrsConfig
  /** Registry name prefix of this child's workers. */
  readonly name: string
  readonly queue: string
  readonly workflow: string
  /** Postgres schema of the child's own table (null on SQLite). */
  readonly schema: string | null
  /** Directory of the append-only logs `handled.log` and `steps.log`. */
  readonly logDir: string
  readonly concurrency: number
  readonly leaseMs: number
  readonly pollIntervalMs: number
  /** Handler / step durations in ms for ordinary and slow items. */
  readonly workMs: readonly [number, number]
  readonly slowMs: readonly [number, number]
  /** Cap of the workers' store-error backoff. */
  readonly maxErrorBackoffMs?: number
  /**
   * A stall of this child's store calls (a network stall of one process): it begins at the first
   * store call at `point` (`archive`, `step-complete`, `transaction`, `dequeue`, `any`; `-slow`
   * for slow items only) at least `afterMs` after `go`, and lasts `ms`.
   */
  readonly stall?: { readonly point: string; readonly afterMs: number; readonly ms: number } | null
}

/** A lease the child was granted: message id, token, grant time and expiry (store clock, epoch ms). */
export type LeaseGrant = readonly [
  id: number,
  lease: string,
  grantedAtMs: number,
  expiresAtMs: number,
]

/** What a worker child reports. `at` is the child's wall clock (epoch ms). */
export type FromWorker =
  | { readonly t: 'ready'; readonly pid: number }
  | {
      readonly t: 'phase'
      readonly phase: Phase
      readonly at: number
      readonly id?: number
      readonly runId?: number
      readonly step?: string
      readonly lease?: string | null
      readonly slow?: boolean
    }
  | { readonly t: 'leased'; readonly at: number; readonly grants: readonly LeaseGrant[] }
  | {
      readonly t: 'step-done'
      readonly at: number
      readonly runId: number
      readonly step: string
      readonly lease: string | null
    }
  | {
      readonly t: 'settled'
      readonly at: number
      readonly op: string
      /** `[id, lease, applied]` per message: applied is false when the lease was not current. */
      readonly results: readonly (readonly [number, string | null, boolean])[]
    }
  | {
      readonly t: 'lease-lost'
      readonly at: number
      readonly id: number
      readonly lease: string | null
    }
  | {
      /**
       * An archive, delete, release or fail that threw: its OUTCOME IS UNKNOWN. The error may have
       * come after the statement committed (the connection was lost between COMMIT and its reply),
       * so the suite counts it as possibly applied.
       */
      readonly t: 'settle-unknown'
      readonly at: number
      readonly op: string
      /** `[id, lease]` of each message the call carried. */
      readonly refs: readonly (readonly [number, string | null])[]
      readonly error: ErrorInfo
    }
  | { readonly t: 'worker-error'; readonly at: number; readonly error: ErrorInfo }
  | { readonly t: 'crash'; readonly at: number; readonly error: ErrorInfo }
  | {
      readonly t: 'stopped'
      readonly at: number
      readonly handled: number
      readonly errors: number
    }

/** A thrown value as reported over IPC. */
export interface ErrorInfo {
  readonly name: string
  readonly code: string | null
  readonly message: string
  /** True for a pgqrs error (a `PgqrsError` with a stable code). */
  readonly typed: boolean
  readonly stack?: string
}

/** What the suite sends to a child. */
export type ToChild = { readonly t: 'go' } | { readonly t: 'stop' }
