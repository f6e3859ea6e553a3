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

/** Columns shared by `pgqrs_messages` and `pgqrs_archive`, for moving rows between them. @internal */
export const MOVED_COLUMNS = sql.raw(MESSAGE_COLUMNS.join(', '))

/**
 * The message columns as selected, with table alias `alias`. JSON comes back as text on every
 * family (one parser, and a stored JSON null stays distinct from SQL NULL). @internal
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
    return `${a}${c}`
  })
  cols.push(archive ? `${a}archived_at, ${a}dead_at` : 'null as archived_at, null as dead_at')
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
