import { sql } from 'kysely'
import type { Timestamp } from '../database.js'
import type { ExecOptions } from '../exec.js'
import type { FamilyFragments, FamilySql } from '../family.js'
import { eventColumnList, MESSAGE_COLUMNS, runColumnList, stepColumnList } from '../row-mappers.js'
import { PostgresExec } from './exec.js'
import { postgresMessages } from './messages.js'
import { postgresRuns } from './runs.js'
import { postgresSchema } from './schema.js'
import { postgresSteps } from './steps.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const TIME_COLUMNS: ReadonlySet<string> = new Set(['enqueued_at', 'visible_at', 'dequeued_at'])

/** A timestamptz column as epoch milliseconds (float8; null stays null). */
function epochMs(expr: string, name: string): string {
  return `date_part('epoch', ${expr}) * 1000 as ${name}`
}

/**
 * Message columns as selected: JSON as text (one parser for every family, and a stored JSON null
 * stays distinct from SQL NULL), the lease as text, and timestamps as epoch milliseconds: the
 * driver's text timestamp parser was the largest single cost of reading a claimed batch (~1 µs per
 * message of client CPU for three timestamps).
 */
function messageColumns(alias: string, archive = false) {
  const a = alias ? `${alias}.` : ''
  const cols = MESSAGE_COLUMNS.map((c) => {
    if (c === 'payload') return `${a}payload::text as payload`
    if (c === 'lease') return `${a}lease::text as lease`
    if (TIME_COLUMNS.has(c)) return epochMs(`${a}${c}`, c)
    return `${a}${c}`
  })
  if (!archive)
    cols.push('null as archived_at, null as dead_at, null as result, null as started_at')
  else
    cols.push(
      `${epochMs(`${a}archived_at`, 'archived_at')}, ${epochMs(`${a}dead_at`, 'dead_at')}`,
      `${a}result::text as result, ${epochMs(`${a}started_at`, 'started_at')}`,
    )
  return sql.raw(cols.join(', '))
}

const jsonAsText = (alias: string) => (c: string) => `${alias}.${c}::text as ${c}`

/** First key of the advisory lock that serialises folds of `pgqrs_archive_counts` ('pgqr'). */
const FOLD_LOCK = 0x70677172

/** Options of {@link postgresFamily}. @internal */
export interface PostgresFamilyOptions {
  readonly schema: string
  /** The NOTIFY channel of the schema; null when the store sends no notifications. */
  readonly channel: string | null
  readonly clock: () => number
}

/**
 * The Postgres family: every statement in the configured schema, times from the database clock
 * (`now()`), hot paths and fences as PL/pgSQL functions of migration 0001 (planned once per
 * session, one round trip each). @internal
 */
export function postgresFamily(options: PostgresFamilyOptions): FamilySql {
  const { schema, channel, clock } = options
  const frag: FamilyFragments = {
    family: 'postgres',
    t: (name) => sql.id(schema, name),
    q: (db) => db.withSchema(schema),
    now: () => sql<Timestamp>`now()`,
    nowPlus: (ms) => sql<Timestamp>`(now() + ${ms}::double precision * interval '1 millisecond')`,
    elapsedMs: (from, to) =>
      sql.raw(`(date_part('epoch', ${to}) - date_part('epoch', ${from})) * 1000`),
    json: (text) => sql`cast(${text} as jsonb)`,
    jsonColumn: (column) => sql.raw(`${column}::text`),
    time: (date) => sql`cast(${date === null ? null : date.toISOString()} as timestamptz)`,
    lease: (token) => sql`${token}::uuid`,
    isLeaseToken: (token) => UUID.test(token),
    lock: (mode) => (mode === 'update' ? sql`for update` : sql`for share`),
    notify: (payload) =>
      channel === null ? null : sql`select pg_catalog.pg_notify(${channel}, ${payload})`,
    // One folder at a time (a try-lock: a second one skips the fold, never waits or deadlocks).
    archiveCountsFold: () => sql`fold_ok as (
        select pg_catalog.pg_try_advisory_xact_lock(${FOLD_LOCK}::int4, pg_catalog.hashtext(${schema})) as ok),
      fold_gone as (delete from ${sql.id(schema, 'pgqrs_archive_counts')} c where (select ok from fold_ok)
        returning c.queue_id, c.archived, c.dead),
      fold_back as (insert into ${sql.id(schema, 'pgqrs_archive_counts')} (queue_id, archived, dead)
        select g.queue_id, sum(g.archived), sum(g.dead) from fold_gone g
        where g.queue_id in (select id from ${sql.id(schema, 'pgqrs_queues')})
        group by g.queue_id having sum(g.archived) <> 0 or sum(g.dead) <> 0
        returning 1),`,
    clock,
    columns: {
      message: messageColumns,
      run: (alias, withWorkflow = true) =>
        sql.raw(runColumnList(alias, withWorkflow, jsonAsText(alias))),
      step: (alias) => sql.raw(stepColumnList(alias, jsonAsText(alias))),
      event: (alias) => sql.raw(eventColumnList(alias, jsonAsText(alias))),
    },
  }
  const f: FamilySql = {
    ...frag,
    exec: (o: ExecOptions) => new PostgresExec(f, schema, o),
    messages: postgresMessages(frag, channel),
    runs: postgresRuns(frag, channel),
    steps: postgresSteps(frag),
    schema: postgresSchema(schema),
  }
  return f
}
