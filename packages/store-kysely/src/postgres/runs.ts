import { sql } from 'kysely'
import type { FamilyFragments, RunSql } from '../family.js'
import { type Row, toRun } from '../row-mappers.js'

/**
 * The Postgres {@link RunSql}: one call of `pgqrs_run_transition` (migration 0001), which applies
 * the guarded, fenced change and, for `runs.end`, archives the run's message in the same
 * statement. `channel`: NOTIFY channel for run ends (null: none). @internal
 */
export function postgresRuns(f: FamilyFragments, channel: string | null): RunSql {
  return {
    transition: (x, id, c, archive) =>
      x.write1(archive ? 'runs.end' : 'runs.transition', async (db) => {
        // A lease that is no UUID is never current: refused without asking the database.
        if (c.lease !== null && !f.isLeaseToken(c.lease)) return null
        try {
          const r = await sql<Row>`select ${f.columns.run('(f.run)', false)}, f.workflow_name
            from ${f.t('pgqrs_run_transition')}(${id}::bigint, ${c.to}, ${[...c.from]}::text[],
              ${c.lease !== null}, ${c.lease}::uuid, ${c.output !== undefined},
              ${c.output ?? null}::jsonb, ${c.error !== undefined}, ${c.error ?? null}::jsonb,
              ${c.wakeAt !== undefined}, ${c.wakeAt ? c.wakeAt.toISOString() : null}::timestamptz,
              ${channel}::text, ${archive}) f`.execute(db)
          return r.rows[0] ? toRun(r.rows[0]) : null
        } catch (e) {
          // P0004: the message could not be archived (its lease is gone); the run change rolled back
          if ((e as { code?: unknown }).code === 'P0004') return null
          throw e
        }
      }),
  }
}
