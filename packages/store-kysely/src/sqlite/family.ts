import { sql } from 'kysely'
import type { Timestamp } from '../database.js'
import type { ExecOptions } from '../exec.js'
import type { FamilyFragments, FamilySql } from '../family.js'
import { eventColumnList, MESSAGE_COLUMNS, runColumnList, stepColumnList } from '../row-mappers.js'
import { SqliteExec } from './exec.js'
import { sqliteMessages } from './messages.js'
import { sqliteRuns } from './runs.js'
import { sqliteSchema } from './schema.js'
import { sqliteSteps } from './steps.js'

const HEX32 = /^[0-9a-f]{32}$/

function messageColumns(alias: string, archive = false) {
  const a = alias ? `${alias}.` : ''
  const cols = MESSAGE_COLUMNS.map((c) => `${a}${c}`)
  cols.push(
    archive
      ? `${a}archived_at, ${a}dead_at, ${a}result, ${a}started_at`
      : 'null as archived_at, null as dead_at, null as result, null as started_at',
  )
  return sql.raw(cols.join(', '))
}

/**
 * The sqlite family (SQLite and Turso): no schema, INTEGER epoch-ms times from the store's clock
 * (bound as parameters, so tests may inject a clock), JSON as TEXT, lease tokens as 32 hex digits.
 * @internal
 */
export function sqliteFamily(options: { readonly clock: () => number }): FamilySql {
  const { clock } = options
  const plain = (alias: string) => (c: string) => `${alias}.${c}`
  const frag: FamilyFragments = {
    family: 'sqlite',
    t: (name) => sql.id(name),
    q: (db) => db,
    now: () => sql<Timestamp>`${clock()}`,
    nowPlus: (ms) => sql<Timestamp>`${clock() + Math.round(ms)}`,
    elapsedMs: (from, to) => sql.raw(`(${to} - ${from})`),
    json: (text) => sql`${text}`,
    jsonColumn: (column) => sql.raw(column),
    time: (date) => sql`${date === null ? null : date.getTime()}`,
    lease: (token) => sql`${token}`,
    isLeaseToken: (token) => HEX32.test(token),
    lock: () => sql``,
    notify: () => null,
    archiveCountsFold: () => sql``,
    clock,
    columns: {
      message: messageColumns,
      run: (alias, withWorkflow = true) =>
        sql.raw(runColumnList(alias, withWorkflow, plain(alias))),
      step: (alias) => sql.raw(stepColumnList(alias, plain(alias))),
      event: (alias) => sql.raw(eventColumnList(alias, plain(alias))),
    },
  }
  const f: FamilySql = {
    ...frag,
    exec: (o: ExecOptions) => new SqliteExec(f, o),
    messages: sqliteMessages(frag),
    runs: sqliteRuns(frag),
    steps: sqliteSteps(frag),
    schema: sqliteSchema(clock),
  }
  return f
}
