import type { Generated, Kysely } from 'kysely'

/**
 * The pgqrs tables as Kysely sees them, for the statements written with the typed query builder
 * (CRUD of queues, workers and workflows). Times are `timestamptz` on Postgres (a `Date` from the
 * driver) and epoch-ms integers on the sqlite family; ids are `bigint` on Postgres (a string from
 * the driver) and integers on SQLite: `row-mappers.ts` turns either into the domain types. Hot
 * paths and locking statements are raw SQL in the family folders. @internal
 */
export type Timestamp = Date | number
type Id = Generated<number | string>

/** `pgqrs_queues`. @internal */
export interface QueuesTable {
  id: Id
  name: string
  created_at: Timestamp
}

/** `pgqrs_workers`. @internal */
export interface WorkersTable {
  id: Id
  name: string
  queue_id: number | string | null
  hostname: string
  pid: number
  instance: string | null
  status: string
  started_at: Timestamp
  heartbeat_at: Timestamp
  shutdown_at: Timestamp | null
}

/** `pgqrs_workflows`. @internal */
export interface WorkflowsTable {
  id: Id
  name: string
  queue_id: number | string
  created_at: Timestamp
}

/** `pgqrs_messages` and `pgqrs_archive`, as far as the builder statements use them. @internal */
export interface MessagesTable {
  id: Id
  queue_id: number | string
}

/** The tables the typed query builder reaches. @internal */
export interface PgqrsDatabase {
  pgqrs_queues: QueuesTable
  pgqrs_workers: WorkersTable
  pgqrs_workflows: WorkflowsTable
  pgqrs_messages: MessagesTable
  pgqrs_archive: MessagesTable
}

/** A Kysely instance on the pgqrs tables (schema-bound on Postgres). @internal */
export type PgqrsDb = Kysely<PgqrsDatabase>
