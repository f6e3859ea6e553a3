/**
 * Messages between the conformance suite and the child processes it forks. A child gets one JSON
 * argument ({@link ChildArgs}), connects with `connect(dsn, config)`, says `ready`, waits for `go`
 * (so that children start together), does its job and reports over IPC.
 */
import type { PgqrsConfig } from '@pgqrs/core'

/** The JSON argument of every child. */
export interface ChildArgs {
  readonly dsn: string
  readonly config: PgqrsConfig
  readonly queue?: string
  readonly batchSize?: number
  readonly leaseMs?: number
}

/**
 * One delivery seen by a drain child: id, lease token, when the child called dequeue (its clock),
 * when the lease started and ends (database clock: `visibleAt - leaseMs` and `visibleAt`) and the
 * archive result.
 */
export type DrainRecord = readonly [
  id: number,
  lease: string | null,
  calledAtMs: number,
  leaseStartMs: number,
  leaseEndsAtMs: number,
  archived: boolean,
]

/** What a child reports. */
export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'migrated'; readonly migrations: readonly string[] }
  | { readonly type: 'drained'; readonly records: readonly DrainRecord[] }
  | {
      readonly type: 'leased'
      readonly id: number
      readonly lease: string | null
      readonly attempts: number
      readonly visibleAtMs: number
    }
  | { readonly type: 'error'; readonly message: string; readonly stack?: string }

/** What the parent sends. */
export type ParentMessage = { readonly type: 'go' }
