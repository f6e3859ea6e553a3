import { LeaseLostError, TERMINAL_RUN_STATUSES } from '@pgqrs/core'
import { sql } from 'kysely'
import type { FamilyFragments, RunSql } from '../family.js'
import { type Row, toRun } from '../row-mappers.js'
import { archiveMessages } from './messages.js'
import { fenceRun } from './steps.js'

/**
 * The sqlite-family {@link RunSql}: the fence, the guarded UPDATE and (for `runs.end`) the move of
 * the run's message to the archive, in one write transaction under the single writer. The SET
 * list is the same change `pgqrs_run_transition` makes on Postgres. @internal
 */
export function sqliteRuns(f: FamilyFragments): RunSql {
  return {
    transition: (x, id, c, archive) =>
      x.write(archive ? 'runs.end' : 'runs.transition', async (db) => {
        const { to } = c
        const sets = [sql`status = ${to}`, sql`updated_at = ${f.now()}`]
        if (c.output !== undefined) sets.push(sql`output = ${c.output}`)
        if (c.error !== undefined) sets.push(sql`error = ${c.error}`)
        if (c.wakeAt !== undefined) sets.push(sql`wake_at = ${f.time(c.wakeAt)}`)
        else if (to !== 'SLEEPING' && to !== 'PAUSED') sets.push(sql`wake_at = null`)
        if (to === 'RUNNING') sets.push(sql`started_at = coalesce(started_at, ${f.now()})`)
        // a paused run's pause note is not an error once it runs again
        if (to === 'RUNNING' && c.error === undefined) sets.push(sql`error = null`)
        if (TERMINAL_RUN_STATUSES.includes(to)) sets.push(sql`completed_at = ${f.now()}`)
        const messageId = await fenceRun(db, f, id, c.lease)
        const allowed = sql.join(c.from.length > 0 ? [...c.from] : ['-'])
        const r = await sql<Row>`update pgqrs_runs set ${sql.join(sets)}
          where id = ${id} and status in (${allowed}) returning id`.execute(db)
        if (!r.rows[0]) return null
        if (archive && c.lease !== null) {
          const moved = await archiveMessages(
            db,
            { ids: [messageId], leases: [c.lease] },
            f.clock(),
          )
          if (moved.size === 0) throw new LeaseLostError(messageId, 'end') // rolls the run back too
        }
        const run = await sql<Row>`select ${f.columns.run('r')} from pgqrs_runs r
          join pgqrs_workflows w on w.id = r.workflow_id where r.id = ${id}`.execute(db)
        return toRun(run.rows[0]!)
      }),
  }
}
