import { sql } from 'kysely'
import type { Db } from '../dialect.js'
import type { PgqrsMigration } from './types.js'

/**
 * 0007_claim_generic_plans (Postgres): the claim functions (`pgqrs_dequeue`,
 * `pgqrs_settle_dequeue`) keep one plan per statement and session instead of planning their
 * statements again on every call: at batch 1 that planning was ~140 µs per message
 * (pg_stat_statements), a fifth of the database CPU, and a 1 × 1 worker drain went from about
 * 1 030 to 1 300 msg/s without it. A generic plan is made once, with the table size of that
 * moment, so the plan shape is pinned: no sequential scans (`enable_seqscan` off; a plan made on
 * an empty table would otherwise scan the whole backlog after a burst), besides the index walk
 * and no bitmap scans or sorts that 0002 already pins, and no JIT (the penalty costs of disabled
 * plan nodes must never make Postgres compile a statement that runs in microseconds).
 */
export const claimGenericPlans: PgqrsMigration = {
  name: '0007_claim_generic_plans',
  async up(db: Db, schema: string) {
    const t = (name: string) => sql.id(schema, name)
    const functions = [
      sql`${t('pgqrs_dequeue')}(text, integer, double precision, bigint)`,
      sql`${t('pgqrs_settle_dequeue')}(bigint[], uuid[], boolean, text, integer, double precision, bigint)`,
    ]
    for (const fn of functions) {
      await sql`alter function ${fn} set plan_cache_mode = force_generic_plan`.execute(db)
      await sql`alter function ${fn} set enable_seqscan = off`.execute(db)
      await sql`alter function ${fn} set enable_bitmapscan = off`.execute(db)
      await sql`alter function ${fn} set enable_sort = off`.execute(db)
      await sql`alter function ${fn} set jit = off`.execute(db)
    }
  },
}
