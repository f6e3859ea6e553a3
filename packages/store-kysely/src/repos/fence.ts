import { LeaseLostError, NotFoundError, ValidationError } from '@pgqrs/core'
import { sql } from 'kysely'
import type { Db, SqlDialect } from '../dialect.js'
import { num, type Row } from '../row-mappers.js'

/**
 * Fencing: inside a write transaction, checks that `lease` is the current lease of the run's
 * message, and on Postgres locks that message row (FOR SHARE) until commit, so the lease cannot be
 * taken over between this check and the caller's write. `lease === null` skips the check
 * (operator actions). Returns the run's message id. @internal
 */
export async function fenceRun(
  db: Db,
  d: SqlDialect,
  runId: number,
  lease: string | null,
): Promise<number> {
  const run =
    await sql<Row>`select message_id from ${d.t('pgqrs_runs')} where id = ${runId}`.execute(db)
  if (!run.rows[0]) throw new NotFoundError('run', runId)
  const messageId = num(run.rows[0].message_id)
  if (lease === null) return messageId
  if (typeof lease !== 'string')
    throw new ValidationError('lease', lease, 'a lease token string or null')
  const pg = d.family === 'postgres'
  if (pg && !/^[0-9a-f-]{36}$/i.test(lease)) throw new LeaseLostError(messageId, 'write')
  const r = await sql<Row>`select lease from ${d.t('pgqrs_messages')} where id = ${messageId}
    ${pg ? sql`and lease = ${lease}::uuid for share` : sql`and lease = ${lease}`}`.execute(db)
  if (!r.rows[0]) throw new LeaseLostError(messageId, 'write')
  return messageId
}
