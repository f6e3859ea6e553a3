import type { ResolvedConfig } from '../config.js'
import type { QueueRecord } from '../types.js'
import type { MessageRepository } from './messages.js'
import type { QueueRepository } from './queues.js'
import type { ScheduleRepository } from './schedules.js'
import type {
  EventRepository,
  RunRepository,
  StepRepository,
  WorkflowRepository,
} from './workflows.js'
import type { WorkerRepository } from './workers.js'

/** What a store can do; queue, workflow and the conformance suite branch on this only. */
export interface StoreCapabilities {
  /** `multi-process`: many processes on many hosts may share the database (a server). */
  readonly concurrency: 'multi-process' | 'single-process'
  /** Concurrent consumers never wait on or double-lease a row (`FOR UPDATE SKIP LOCKED`). */
  readonly skipLocked: boolean
  /** The store can wake idle workers on enqueue (LISTEN/NOTIFY). */
  readonly notifications: boolean
  /**
   * Other processes may open the same database at the same time and share its state: a server, or
   * a database file on one host (SQLite, Turso). False for a private in-memory database. The
   * conformance suite runs its crash tests (child processes killed with SIGKILL) only when true.
   */
  readonly sharedAcrossProcesses: boolean
}

/** The repositories, bound either to the store or to one open transaction. */
export interface StoreRepositories {
  readonly queues: QueueRepository
  readonly messages: MessageRepository
  readonly workers: WorkerRepository
  readonly workflows: WorkflowRepository
  readonly runs: RunRepository
  readonly steps: StepRepository
  /** Events sent into runs and values published by them. */
  readonly events: EventRepository
  /**
   * Optional: cron schedules. A store without it cannot hold schedules (`pgqrs.schedule` refuses,
   * workers run no scheduler).
   */
  readonly schedules?: ScheduleRepository
}

/**
 * A transaction opened by {@link Store.transaction}: the same repositories, all writing in one
 * transaction, plus `db`, the driver-level handle (a Kysely `Transaction`) for the caller's own writes.
 */
export interface StoreTransaction extends StoreRepositories {
  readonly db: unknown
}

/** A listener subscription returned by {@link Store.listen}. */
export interface Subscription {
  /** Stops listening; safe to call twice. */
  close(): Promise<void>
}

/**
 * The installed schema compared with the one this code expects (see {@link Store.schemaStatus}).
 * Migration names are `NNNN_description`, applied in order.
 */
export interface SchemaStatus {
  /**
   * `current`: installed and exactly what this code expects; `missing`: not installed; `older`: the
   * database lacks migrations this code needs (run install); `newer`: it has migrations this code
   * does not know (upgrade the code).
   */
  readonly state: 'current' | 'missing' | 'older' | 'newer'
  /** The newest migration this code knows. */
  readonly expected: string
  /** The newest migration applied to the database; null when not installed. */
  readonly installed: string | null
  /** Migrations this code has that the database lacks, oldest first. */
  readonly pending: readonly string[]
  /** Migrations applied to the database that this code does not know. */
  readonly unknown: readonly string[]
  /** Where the schema lives, for messages: `schema "pgqrs"` on Postgres, `this database` on SQLite. */
  readonly location: string
}

/**
 * A backend that persists pgqrs state. Implement it directly, or extend `KyselyStore` from
 * `@pgqrs/store-kysely`. Members marked optional are shortcuts the queue and workflow layers use
 * when present (each is a combination of required methods, done in fewer round trips); a store
 * without them gets the same behaviour from the required methods.
 */
export interface Store extends StoreRepositories {
  /** `'postgres' | 'sqlite' | 'turso'` or a custom adapter's name; used in logs and errors. */
  readonly backend: string
  readonly capabilities: StoreCapabilities
  /** The validated, frozen configuration this store was created with. */
  readonly config: ResolvedConfig
  /** Get-or-create a queue by name (idempotent, safe under concurrency). */
  queue(name: string): Promise<QueueRecord>
  /** Creates or upgrades the pgqrs schema. Idempotent, safe to run from many processes at once. */
  migrate(): Promise<void>
  /** The applied migration names, oldest first (empty before install). */
  migrations(): Promise<string[]>
  /**
   * The installed schema compared with the migrations this store's code knows. Workers call it
   * when they start and refuse to run unless the state is `current`.
   */
  schemaStatus(): Promise<SchemaStatus>
  /** Runs `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>
  /**
   * The repositories running on the caller's own open transaction, so pgqrs writes commit or roll
   * back with the caller's business data: a Kysely `Transaction` on the same database, a
   * {@link StoreTransaction}, or (Postgres) a `pg` client inside `BEGIN`.
   */
  withTransaction(tx: unknown): StoreRepositories
  /**
   * Calls `onNotify(channel)` when something is enqueued to one of `channels` (queue names) or when
   * a run of them finishes. Only when `capabilities.notifications`; otherwise it resolves to null.
   */
  listen(
    channels: readonly string[],
    onNotify: (channel: string) => void,
  ): Promise<Subscription | null>
  /**
   * Optional. A count that grows whenever this store object starts a write (in a transaction or
   * not). The workflow engine compares two readings to know that nothing was written through this
   * store in between (a `cancelRun` in this process, say), and then skips re-reading a run's status
   * between back-to-back steps. A store without it gets that read at every step boundary.
   */
  writeCount?(): number
  /** Releases what the store opened itself (never a pool or client the caller passed); safe to call twice. */
  close(): Promise<void>
}
