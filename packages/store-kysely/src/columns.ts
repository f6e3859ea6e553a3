import { type RawBuilder, sql } from 'kysely'
import type { Family } from './dialect.js'

const MESSAGE_COLUMNS = [
  'id',
  'queue_id',
  'payload',
  'priority',
  'enqueued_at',
  'visible_at',
  'attempts',
  'max_attempts',
  'lease',
  'consumer_id',
  'producer_id',
  'dedupe_key',
  'last_error',
  'dequeued_at',
] as const

const TIME_COLUMNS: ReadonlySet<string> = new Set(['enqueued_at', 'visible_at', 'dequeued_at'])

/** A Postgres timestamptz column as epoch milliseconds (float8, null stays null). */
function epochMs(expr: string, name: string): string {
  return `date_part('epoch', ${expr}) * 1000 as ${name}`
}

/** Columns shared by `pgqrs_messages` and `pgqrs_archive`, for moving rows between them. @internal */
export const MOVED_COLUMNS = sql.raw(MESSAGE_COLUMNS.join(', '))

/**
 * The message columns as selected, with table alias `alias`. JSON comes back as text on every
 * family (one parser, and a stored JSON null stays distinct from SQL NULL). Postgres timestamps
 * come back as epoch milliseconds (float8), as the sqlite family stores them: the driver's text
 * timestamp parser was the largest single cost of reading a claimed batch (~1 µs per message of
 * client CPU for three timestamps). @internal
 */
export function messageColumns(
  family: Family,
  alias: string,
  archive = false,
): RawBuilder<unknown> {
  const a = alias ? `${alias}.` : ''
  const cols = MESSAGE_COLUMNS.map((c) => {
    if (c === 'payload' && family === 'postgres') return `${a}payload::text as payload`
    if (c === 'lease' && family === 'postgres') return `${a}lease::text as lease`
    if (TIME_COLUMNS.has(c) && family === 'postgres') return epochMs(`${a}${c}`, c)
    return `${a}${c}`
  })
  if (!archive) cols.push('null as archived_at, null as dead_at')
  else if (family === 'postgres')
    cols.push(`${epochMs(`${a}archived_at`, 'archived_at')}, ${epochMs(`${a}dead_at`, 'dead_at')}`)
  else cols.push(`${a}archived_at, ${a}dead_at`)
  return sql.raw(cols.join(', '))
}

/** Run columns, JSON as text, with the workflow name joined as `w` (unless `withWorkflow` is false). @internal */
export function runColumns(
  family: Family,
  alias: string,
  withWorkflow = true,
): RawBuilder<unknown> {
  const j = (c: string) => (family === 'postgres' ? `${alias}.${c}::text as ${c}` : `${alias}.${c}`)
  return sql.raw(
    [
      `${alias}.id`,
      `${alias}.workflow_id`,
      ...(withWorkflow ? ['w.name as workflow_name'] : []),
      `${alias}.message_id`,
      `${alias}.status`,
      j('input'),
      j('output'),
      j('error'),
      `${alias}.idempotency_key`,
      `${alias}.wake_at`,
      `${alias}.created_at`,
      `${alias}.updated_at`,
      `${alias}.started_at`,
      `${alias}.completed_at`,
    ].join(', '),
  )
}

/** Step columns, JSON as text. @internal */
export function stepColumns(family: Family, alias: string): RawBuilder<unknown> {
  const j = (c: string) => (family === 'postgres' ? `${alias}.${c}::text as ${c}` : `${alias}.${c}`)
  return sql.raw(
    [
      `${alias}.id`,
      `${alias}.run_id`,
      `${alias}.step_key`,
      `${alias}.status`,
      j('output'),
      j('error'),
      `${alias}.retry_count`,
      `${alias}.retry_at`,
      `${alias}.created_at`,
      `${alias}.started_at`,
      `${alias}.completed_at`,
    ].join(', '),
  )
}
