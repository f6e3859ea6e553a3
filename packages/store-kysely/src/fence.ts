import { LeaseLostError, NotFoundError, ValidationError } from '@pgqrs/core'
import { sql } from 'kysely'
import type { Db } from './exec.js'
import type { FamilyFragments } from './family.js'
import { num, type Row } from './row-mappers.js'

/** Checks the type of a fencing lease: a token string, or null for an operator's write. @internal */
export function checkLease(lease: unknown): asserts lease is string | null {
  if (lease === undefined) {
    throw new ValidationError(
      'lease',
      lease,
      "the lease token of the run's message, or null for an operator's change",
      "Missing lease: pass the lease token of the run's message, or lease: null for an operator's change (a write is never unfenced by omission)",
    )
  }
  if (lease !== null && typeof lease !== 'string') {
    throw new ValidationError('lease', lease, 'a lease token string or null')
  }
}

/**
 * Explains a fenced write that changed nothing: throws `NotFoundError` (no such run) or
 * `LeaseLostError` (the lease is not current); returns normally when the fence holds (then the
 * row's own condition refused the write). The same statements on every family. @internal
 */
export async function explainFence(
  db: Db,
  f: FamilyFragments,
  runId: number,
  lease: string | null,
): Promise<number> {
  const run =
    await sql<Row>`select message_id from ${f.t('pgqrs_runs')} where id = ${runId}`.execute(db)
  if (!run.rows[0]) throw new NotFoundError('run', runId)
  const messageId = num(run.rows[0].message_id)
  if (lease === null) return messageId
  if (!f.isLeaseToken(lease)) throw new LeaseLostError(messageId, 'write')
  const r = await sql<Row>`select 1 as ok from ${f.t('pgqrs_messages')} where id = ${messageId}
    and lease = ${f.lease(lease)}`.execute(db)
  if (!r.rows[0]) throw new LeaseLostError(messageId, 'write')
  return messageId
}
