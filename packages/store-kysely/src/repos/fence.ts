import { LeaseLostError, NotFoundError, ValidationError } from '@pgqrs/core'
import { type RawBuilder, sql } from 'kysely'
import type { Db, SqlDialect } from '../dialect.js'
import { num, type Row } from '../row-mappers.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * True for a lease no Postgres message can hold (a string that is no UUID): a fenced write with it
 * changes nothing, and `explainFence` says why. `null` (unfenced) is not such a lease. @internal
 */
export function neverCurrent(lease: string | null): boolean {
  return lease !== null && !UUID.test(lease)
}

function checkLease(lease: unknown): asserts lease is string | null {
  if (lease !== null && typeof lease !== 'string') {
    throw new ValidationError('lease', lease, 'a lease token string or null')
  }
}

/**
 * The fencing condition as SQL, to put in the WHERE of the very statement that writes: "the run's
 * message is still leased with `lease`". On Postgres it also locks that message row (FOR SHARE)
 * until commit, so the lease cannot be taken over between the check and the write. `lease === null`
 * (operator actions) is always true. `runId` is an SQL expression for the run's id. @internal
 */
export function fenceCondition(
  d: SqlDialect,
  runId: RawBuilder<unknown>,
  lease: string | null,
): RawBuilder<unknown> {
  checkLease(lease)
  if (lease === null) return sql`true`
  if (d.family === 'postgres') {
    if (!UUID.test(lease)) return sql`false`
    return sql`exists (select 1 from ${d.t('pgqrs_messages')} fm
      where fm.id = (select fr.message_id from ${d.t('pgqrs_runs')} fr where fr.id = ${runId})
        and fm.lease = ${lease}::uuid for share)`
  }
  return sql`exists (select 1 from pgqrs_messages fm
    where fm.id = (select fr.message_id from pgqrs_runs fr where fr.id = ${runId}) and fm.lease = ${lease})`
}

/**
 * After a fenced write changed nothing: throws `NotFoundError` (no such run) or `LeaseLostError`
 * (the lease is not current); returns normally when the fence holds (the row's own condition
 * refused the write). @internal
 */
export async function explainFence(
  db: Db,
  d: SqlDialect,
  runId: number,
  lease: string | null,
): Promise<void> {
  const run =
    await sql<Row>`select message_id from ${d.t('pgqrs_runs')} where id = ${runId}`.execute(db)
  if (!run.rows[0]) throw new NotFoundError('run', runId)
  if (lease === null) return
  const messageId = num(run.rows[0].message_id)
  if (d.family === 'postgres' && !UUID.test(lease)) throw new LeaseLostError(messageId, 'write')
  const r = await sql<Row>`select 1 as ok from ${d.t('pgqrs_messages')} where id = ${messageId}
    and lease = ${d.family === 'postgres' ? sql`${lease}::uuid` : sql`${lease}`}`.execute(db)
  if (!r.rows[0]) throw new LeaseLostError(messageId, 'write')
}

/**
 * Fencing as a separate check, inside a write transaction (the sqlite family, where the single
 * writer makes check-then-write atomic). Returns the run's message id. @internal
 */
export async function fenceRun(
  db: Db,
  d: SqlDialect,
  runId: number,
  lease: string | null,
): Promise<number> {
  checkLease(lease)
  const run =
    await sql<Row>`select message_id from ${d.t('pgqrs_runs')} where id = ${runId}`.execute(db)
  if (!run.rows[0]) throw new NotFoundError('run', runId)
  const messageId = num(run.rows[0].message_id)
  if (lease === null) return messageId
  await explainFence(db, d, runId, lease)
  return messageId
}
