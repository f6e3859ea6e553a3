import type { AcquiredStep, FailOutcome, QueueMessage, RunRecord, RunStatus } from '@pgqrs/core'
import type { RawBuilder } from 'kysely'
import type { PgqrsDb, Timestamp } from './database.js'
import type { Db, Exec, ExecOptions, StoreExec } from './exec.js'
import type { PgqrsMigration } from './migration.js'
import type { PreparedItem } from './repos/message-input.js'

/** The SQL family a dialect belongs to: all SQL of pgqrs is written for one of these. */
export type Family = 'postgres' | 'sqlite'

/** A raw SQL fragment. @internal */
export type Fragment = RawBuilder<unknown>

/** Messages to settle: ids with the lease token each was delivered with (well-formed, distinct). @internal */
export interface Refs {
  readonly ids: readonly number[]
  readonly leases: readonly string[]
  /** What to keep with each archived message (same positions); absent when nothing. */
  readonly outcomes?: Outcomes
}

/** Validated settle outcomes, one per ref: result JSON text (null: none) and start time. @internal */
export interface Outcomes {
  readonly results: readonly (string | null)[]
  readonly started: readonly (Date | null)[]
}

/** What a claim takes, validated. @internal */
export interface Claim {
  readonly batchSize: number
  readonly leaseMs: number
  readonly consumerId: number | null
}

/** A validated run status change (see `repos/runs.ts`). @internal */
export interface RunChange {
  readonly to: RunStatus
  /** The statuses the run may leave for `to` (`RUN_TRANSITIONS`). */
  readonly from: readonly RunStatus[]
  /** JSON text to store, or undefined to leave the column as it is. */
  readonly output: string | null | undefined
  readonly error: string | null | undefined
  /** undefined: the status decides (kept while SLEEPING/PAUSED, cleared otherwise). */
  readonly wakeAt: Date | null | undefined
  /** null: an operator's change, not fenced. */
  readonly lease: string | null
}

/**
 * The family's half of every statement that differs between Postgres and the sqlite family
 * (SQLite, Turso). Each family implements it once, in its own folder (`postgres/`, `sqlite/`), and
 * each rule lives there once: the claim, settling, failing and dead-lettering a message, the run
 * transition, fencing and the step writes. The repositories (`repos/`) validate input, write the
 * statements both families share with the fragments below, and call these for the rest; they hold
 * no family branches. Modelled on kysely's Dialect: one small object per family.
 * @internal
 */
export interface FamilySql extends FamilyFragments {
  /** Builds the store's {@link StoreExec} (how statements run, commit and retry on this family). */
  exec(options: ExecOptions): StoreExec
  readonly messages: MessageSql
  readonly runs: RunSql
  readonly steps: StepSql
  readonly schema: SchemaSql
}

/** The fragments of a family, for the statements both families share. @internal */
export interface FamilyFragments {
  readonly family: Family
  /** A pgqrs table, schema-qualified on Postgres. */
  t(name: string): Fragment
  /** The typed query builder on the pgqrs tables of `db` (bound to the schema on Postgres). */
  q(db: Db): PgqrsDb
  /** The current time: `now()` on Postgres, the store clock's epoch ms on the sqlite family. */
  now(): RawBuilder<Timestamp>
  /** The current time plus `ms` milliseconds. */
  nowPlus(ms: number): RawBuilder<Timestamp>
  /** Milliseconds from time column `from` to time column `to` (trusted column names), as a number. */
  elapsedMs(from: string, to: string): Fragment
  /** A bound JSON text as a JSON value of the column type. */
  json(text: string | null): Fragment
  /** A JSON column read as JSON text (`col::text` on Postgres; the column itself on sqlite). */
  jsonColumn(column: string): Fragment
  /** A bound instant. */
  time(date: Date | null): Fragment
  /** A bound lease token as the column type. */
  lease(token: string): Fragment
  /** True when `token` has the shape of this family's lease tokens (anything else is never current). */
  isLeaseToken(token: string): boolean
  /**
   * Row locks for a SELECT: `for update` / `for share` on Postgres; nothing on the sqlite family,
   * whose single writer already serialises write transactions.
   */
  lock(mode: 'update' | 'share'): Fragment
  /**
   * A statement that NOTIFYs the store's channel with `payload` (a queue name, `run:<id>`,
   * `value:<id>`), or null where the store sends no notifications.
   */
  notify(payload: string): Fragment | null
  /** Epoch ms of the store clock (the sqlite family's "now"; Postgres uses it for app-side times). */
  clock(): number
  /**
   * Common table expressions (each followed by a comma) that the metrics statement runs before
   * it reads `pgqrs_archive_counts`: Postgres folds its append-only log of count deltas back to one
   * row per queue (the statement still reads the rows as they were before the fold, so its sums are
   * exact); empty on the sqlite family, whose triggers keep one row per queue.
   */
  archiveCountsFold(): Fragment
  /** Column lists as selected, with JSON as text and times in the family's form. */
  readonly columns: {
    message(alias: string, archive?: boolean): Fragment
    run(alias: string, withWorkflow?: boolean): Fragment
    step(alias: string): Fragment
    event(alias: string): Fragment
  }
}

/** Message statements of one family. @internal */
export interface MessageSql {
  /**
   * Inserts `items` into `queue` on `db` (inside the caller's statement or transaction) and returns
   * one message per item, in order; an item whose dedupe key is active already gets the existing
   * message. Throws `QueueNotFoundError` when the queue is missing; nothing is inserted then.
   */
  insert(
    db: Db,
    queue: string,
    items: readonly PreparedItem[],
    producerId: number | null,
  ): Promise<QueueMessage[]>
  /** {@link MessageSql.insert} as a write of its own. */
  enqueue(
    x: Exec,
    queue: string,
    items: readonly PreparedItem[],
    producerId: number | null,
  ): Promise<QueueMessage[]>
  /** The claim: `MessageRepository.dequeue`. `QueueNotFoundError` when the queue is missing. */
  claim(x: Exec, queue: string, claim: Claim): Promise<QueueMessage[]>
  /** `MessageRepository.settleAndDequeue`: settles `refs`, then claims, committed together. */
  settleAndClaim(
    x: Exec,
    refs: Refs,
    how: 'archive' | 'delete',
    queue: string,
    claim: Claim,
  ): Promise<{ settled: Set<number>; messages: QueueMessage[] }>
  /**
   * `MessageRepository.dequeueQueues`: archives `refs` (with their outcomes), then claims across
   * `queues` (distinct, validated), committed together.
   */
  claimQueues(
    x: Exec,
    refs: Refs,
    queues: readonly string[],
    claim: Claim,
  ): Promise<{ settled: Set<number>; messages: QueueMessage[] }>
  /** Moves the messages whose lease is current to the archive (with their outcomes); returns their ids. */
  archive(x: Exec, refs: Refs): Promise<Set<number>>
  /** Deletes the messages whose lease is current; returns their ids. */
  delete(x: Exec, refs: Refs): Promise<Set<number>>
  /**
   * Records a failed delivery of a message whose lease is current: retried after `retryDelayMs`
   * with attempts left, dead otherwise (its workflow run then ends ERROR, by the archive's
   * dead-letter trigger).
   */
  fail(
    x: Exec,
    id: number,
    lease: string,
    error: string,
    retryDelayMs: number,
  ): Promise<FailOutcome>
}

/** Run statements of one family. @internal */
export interface RunSql {
  /**
   * Applies `change` to run `id` when the run is in one of `change.from` and (unless the lease is
   * null) its message is leased with `change.lease`; with `archive`, also moves that message to
   * the archive, all or nothing. Null when refused (the caller explains why); NOTIFY of a run end
   * where the family has notifications.
   */
  transition(x: Exec, id: number, change: RunChange, archive: boolean): Promise<RunRecord | null>
}

/** Step statements of one family; every write is fenced by the run message's lease. @internal */
export interface StepSql {
  /** `StepRepository.acquire`. Throws `NotFoundError`/`LeaseLostError` when the fence refuses. */
  acquire(x: Exec, runId: number, stepKey: string, lease: string | null): Promise<AcquiredStep>
  /**
   * A fenced UPDATE of step `(runId, stepKey)` setting `set` where `where` holds; false when the
   * step's own condition refused it. Throws `NotFoundError`/`LeaseLostError` when the fence refuses.
   */
  update(
    x: Exec,
    op: string,
    runId: number,
    stepKey: string,
    lease: string | null,
    set: Fragment,
    where: Fragment,
  ): Promise<boolean>
  /** `StepRepository.record`: inserts the step as SUCCESS unless a row exists; fenced. */
  record(
    x: Exec,
    runId: number,
    stepKey: string,
    output: string | null,
    lease: string | null,
    elapsedMs: number,
  ): Promise<{ written: boolean; runStatus: RunStatus }>
}

/** The schema of one family: its migrations and what installing them needs. @internal */
export interface SchemaSql {
  /** Every migration of the family, oldest first. Frozen text: never edit a released one. */
  readonly migrations: readonly PgqrsMigration[]
  /** Where the schema lives, for messages (`schema "pgqrs"`, `this database`). */
  readonly location: string
  /**
   * In the install transaction, before anything else: serialise installers (an advisory lock on
   * Postgres; the sqlite family's `BEGIN IMMEDIATE` already does) and create the schema and the
   * migrations table when missing.
   */
  prepare(db: Db): Promise<void>
  /** Runs one migration's statements. */
  apply(db: Db, migration: PgqrsMigration): Promise<void>
  /** Records an applied migration. */
  record(db: Db, name: string): Promise<void>
  /** Applied migration names, in order; null when the migrations table does not exist. */
  applied(db: Db): Promise<string[] | null>
  /**
   * The schema as installed, as text to compare with the committed `schema/<family>.sql`: every
   * table with its columns and constraints, index, function and trigger, in a stable order, with
   * the schema name written `{{schema}}`. Excludes the migrations table's rows.
   */
  dump(db: Db): Promise<string>
}
