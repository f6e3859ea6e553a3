import { type Kysely, type RawBuilder, sql } from 'kysely'

/** The SQL family a dialect belongs to: all SQL of pgqrs is written for one of these. */
export type Family = 'postgres' | 'sqlite'

/**
 * Family-specific SQL fragments, so that one query text serves both families where they agree.
 * Postgres computes times with the database clock (`now()`); the sqlite family stores integer epoch
 * ms and takes "now" from one clock source, bound as a parameter.
 * @internal
 */
export interface SqlDialect {
  readonly family: Family
  /** A pgqrs table, schema-qualified on Postgres. */
  t(name: string): RawBuilder<unknown>
  /** The current time. */
  now(): RawBuilder<unknown>
  /** The current time plus `ms` milliseconds. */
  nowPlus(ms: number): RawBuilder<unknown>
  /** A bound JSON text as a JSON value of the column type. */
  json(text: string | null): RawBuilder<unknown>
  /** A bound instant. */
  time(date: Date | null): RawBuilder<unknown>
  /** Epoch ms of the clock (sqlite family) — also used by Postgres for values computed in the app. */
  clock(): number
}

/** Builds the {@link SqlDialect} of a family. `schema` is used by Postgres only. @internal */
export function sqlDialect(family: Family, schema: string, clock: () => number): SqlDialect {
  if (family === 'postgres') {
    return {
      family,
      t: (name) => sql.id(schema, name),
      now: () => sql`now()`,
      nowPlus: (ms) => sql`(now() + ${ms}::double precision * interval '1 millisecond')`,
      json: (text) => sql`cast(${text} as jsonb)`,
      time: (date) => sql`cast(${date === null ? null : date.toISOString()} as timestamptz)`,
      clock,
    }
  }
  return {
    family,
    t: (name) => sql.id(name),
    now: () => sql`${clock()}`,
    nowPlus: (ms) => sql`${clock() + Math.round(ms)}`,
    json: (text) => sql`${text}`,
    time: (date) => sql`${date === null ? null : date.getTime()}`,
    clock,
  }
}

/** Any Kysely instance or transaction pgqrs runs its SQL on. @internal */
export type Db = Kysely<any>
