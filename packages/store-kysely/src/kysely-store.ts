import { createHash } from 'node:crypto'
import { inspect } from 'node:util'
import {
  type PgqrsConfig,
  type QueueRecord,
  type ResolvedConfig,
  resolveConfig,
  type SchemaStatus,
  type Store,
  type StoreCapabilities,
  type StoreRepositories,
  type StoreTransaction,
  type Subscription,
  ValidationError,
} from '@pgqrs/core'
import { type Consumer, createConsumer, createProducer, type Producer } from '@pgqrs/queue'
import type { Kysely } from 'kysely'
import type { Exec, StoreExec } from './exec.js'
import { TxExec } from './exec.js'
import type { Family, FamilySql } from './family.js'
import { listMigrations, runMigrations, schemaStatus } from './migrator.js'
import { postgresFamily } from './postgres/family.js'
import { KyselyEventRepository } from './repos/events.js'
import { KyselyMessageRepository } from './repos/messages.js'
import { KyselyQueueRepository } from './repos/queues.js'
import { KyselyRunRepository } from './repos/runs.js'
import { KyselyScheduleRepository } from './repos/schedules.js'
import { KyselyStepRepository } from './repos/steps.js'
import { KyselyWorkerRepository } from './repos/workers.js'
import { KyselyWorkflowRepository } from './repos/workflows.js'
import type { SqliteBegin } from './sqlite/exec.js'
import { sqliteFamily } from './sqlite/family.js'

/** Options of {@link KyselyStore}. */
export interface KyselyStoreOptions {
  /** Any Kysely instance whose dialect is of the postgres or sqlite family. */
  readonly db: Kysely<any>
  /** The SQL family of the dialect. */
  readonly family: Family
  /** `'postgres' | 'sqlite' | 'turso'` or your adapter's name. */
  readonly backend: string
  readonly capabilities: StoreCapabilities
  /** The pgqrs config; resolved (validated, defaults filled in) by the store. */
  readonly config?: PgqrsConfig | ResolvedConfig
  /** sqlite family: how write transactions begin (`raw` sends `BEGIN IMMEDIATE`; `kysely` uses `db.transaction()`). Default `raw`. */
  readonly sqliteBegin?: SqliteBegin
  /** The clock in epoch ms: every time on the sqlite family (tests may inject one). Default `Date.now`. */
  readonly clock?: () => number
  /** sqlite family: called after a busy BEGIN, before it is retried. */
  readonly onBusy?: () => Promise<void>
  /** Called by `close()` to release what the subclass opened (the store never closes `db` itself otherwise). */
  readonly onClose?: () => Promise<void>
}

/** Builds the repositories over one {@link Exec}. */
function repositories(x: Exec, config: ResolvedConfig): StoreRepositories {
  return {
    queues: new KyselyQueueRepository(x),
    messages: new KyselyMessageRepository(x, config),
    workers: new KyselyWorkerRepository(x),
    workflows: new KyselyWorkflowRepository(x),
    runs: new KyselyRunRepository(x, config),
    steps: new KyselyStepRepository(x, config),
    events: new KyselyEventRepository(x, config),
    schedules: new KyselyScheduleRepository(x),
  }
}

/** The family's SQL for a store (the only place that picks a family). */
function familyOf(options: KyselyStoreOptions, config: ResolvedConfig): FamilySql {
  const clock = options.clock ?? Date.now
  if (options.family === 'postgres') {
    const channel = options.capabilities.notifications ? notifyChannel(config.schema) : null
    return postgresFamily({ schema: config.schema, channel, clock })
  }
  if (options.family === 'sqlite') return sqliteFamily({ clock })
  throw new ValidationError('family', options.family, "'postgres' or 'sqlite'")
}

/**
 * A {@link Store} over any Kysely dialect of the postgres or sqlite family. All pgqrs SQL lives in
 * this package, one folder per family; a driver package only builds the Kysely instance (and may
 * add notifications).
 *
 * @example
 * ```ts
 * class MyStore extends KyselyStore {
 *   constructor() {
 *     super({ db: new Kysely({ dialect: myDialect }), family: 'sqlite', backend: 'my-sqlite',
 *       capabilities: { concurrency: 'single-process', skipLocked: false, notifications: false,
 *         sharedAcrossProcesses: true } })
 *   }
 * }
 * ```
 */
export class KyselyStore implements Store {
  readonly backend: string
  readonly capabilities: StoreCapabilities
  readonly config: ResolvedConfig
  readonly queues: StoreRepositories['queues']
  readonly messages: KyselyMessageRepository
  readonly workers: StoreRepositories['workers']
  readonly workflows: StoreRepositories['workflows']
  readonly runs: KyselyRunRepository
  readonly steps: KyselyStepRepository
  readonly events: KyselyEventRepository
  readonly schedules: KyselyScheduleRepository
  /** The Kysely instance the store runs on. */
  readonly db: Kysely<any>
  readonly #exec: StoreExec
  readonly #channel: string | null
  readonly #onClose: (() => Promise<void>) | undefined
  #closed: Promise<void> | null = null

  constructor(options: KyselyStoreOptions) {
    this.config = resolveConfig(options.config)
    this.backend = options.backend
    this.capabilities = Object.freeze({ ...options.capabilities })
    this.db = options.db
    this.#onClose = options.onClose
    const f = familyOf(options, this.config)
    this.#channel =
      options.family === 'postgres' && options.capabilities.notifications
        ? notifyChannel(this.config.schema)
        : null
    this.#exec = f.exec({
      db: options.db,
      backend: options.backend,
      sqliteBegin: options.sqliteBegin,
      onBusy: options.onBusy,
    })
    const repos = repositories(this.#exec, this.config)
    this.queues = repos.queues
    this.messages = repos.messages as KyselyMessageRepository
    this.workers = repos.workers
    this.workflows = repos.workflows
    this.runs = repos.runs as KyselyRunRepository
    this.steps = repos.steps as KyselyStepRepository
    this.events = repos.events as KyselyEventRepository
    this.schedules = repos.schedules as KyselyScheduleRepository
  }

  /** The NOTIFY channel of this store's schema (Postgres), or null. */
  get notifyChannel(): string | null {
    return this.#channel
  }

  /** Creates or upgrades the schema: idempotent, serialised between processes. */
  async migrate(): Promise<void> {
    await runMigrations(this.#exec)
  }

  /**
   * Installs the schema up to migration `name` only: an earlier schema level, for upgrade tests.
   * @internal
   */
  async migrateTo(name: string): Promise<void> {
    await runMigrations(this.#exec, name)
  }

  /** The migration names this store's code knows, oldest first. @internal */
  knownMigrations(): string[] {
    return this.#exec.f.schema.migrations.map((m) => m.name)
  }

  /** The applied migration names, oldest first. */
  migrations(): Promise<string[]> {
    return listMigrations(this.#exec)
  }

  /** The installed schema compared with this package's migrations. */
  schemaStatus(): Promise<SchemaStatus> {
    return schemaStatus(this.#exec)
  }

  /**
   * The installed schema as normalised text (tables, indexes, functions, triggers; the schema
   * name written `{{schema}}`), as committed in `schema/<family>.sql`. For the schema tests and
   * `pnpm schema:dump`. @internal
   */
  schemaDump(): Promise<string> {
    return this.#exec.read('schemaDump', (db) => this.#exec.f.schema.dump(db))
  }

  /** Writes this store object has started so far (see `Store.writeCount`). */
  writeCount(): number {
    return this.#exec.writes
  }

  /** Runs `fn` in one transaction with repositories bound to it and `tx.db` for your own writes. */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.#exec.transaction((trx) =>
      fn({ ...repositories(new TxExec(this.#exec, trx), this.config), db: trx }),
    )
  }

  /** Repositories bound to the caller's open transaction (a Kysely transaction or a StoreTransaction). */
  withTransaction(tx: unknown): StoreRepositories {
    if (typeof tx === 'object' && tx !== null && 'messages' in tx && 'runs' in tx)
      return tx as StoreTransaction
    return repositories(new TxExec(this.#exec, this.adaptTransaction(tx)), this.config)
  }

  /**
   * Turns the caller's transaction handle into a Kysely instance on that transaction. Accepts a
   * Kysely `Transaction`; driver stores override this to accept their own client type too.
   */
  protected adaptTransaction(tx: unknown): Kysely<any> {
    if (
      typeof tx === 'object' &&
      tx !== null &&
      typeof (tx as Kysely<any>).executeQuery === 'function' &&
      (tx as { isTransaction?: boolean }).isTransaction
    ) {
      return tx as Kysely<any>
    }
    throw new ValidationError(
      'tx',
      tx,
      'a Kysely Transaction (from db.transaction()) or a StoreTransaction',
    )
  }

  /** Get-or-create a queue (idempotent, safe under concurrency). */
  queue(name: string): Promise<QueueRecord> {
    return this.queues.ensure(name)
  }

  /** A producer for `queue` with this process's identity (the queue must exist): see `createProducer`. */
  producer<T = unknown>(queue: string): Promise<Producer<T>> {
    return createProducer<T>(this, queue)
  }

  /** A consumer of `queue` with this process's identity (the queue must exist): see `createConsumer`. */
  consumer<T = unknown>(queue: string): Promise<Consumer<T>> {
    return createConsumer<T>(this, queue)
  }

  /** No notifications by default; the Postgres store overrides this. */
  async listen(
    _channels: readonly string[],
    _onNotify: (channel: string) => void,
  ): Promise<Subscription | null> {
    return null
  }

  /**
   * What `console.log(store)` and `util.inspect` show: the backend, its capabilities and schema,
   * never the driver objects under it (a pool's connection string holds a password).
   */
  [inspect.custom](): string {
    const schema =
      this.#exec.f.family === 'postgres' ? `, schema: ${JSON.stringify(this.config.schema)}` : ''
    return `${this.constructor.name} { backend: ${JSON.stringify(this.backend)}${schema}, concurrency: ${JSON.stringify(this.capabilities.concurrency)} }`
  }

  /** JSON of the store: the same summary as {@link inspect}, no driver object. */
  toJSON(): { backend: string; schema: string; capabilities: StoreCapabilities } {
    return { backend: this.backend, schema: this.config.schema, capabilities: this.capabilities }
  }

  /** Releases what the store opened; safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#onClose?.()
    })()
    return this.#closed
  }
}

/**
 * The NOTIFY channel of a schema: one per schema, the queue name as payload. `pgqrs:<schema>`
 * when that fits Postgres's 63-byte limit for channel names; otherwise `pgqrs:` and a hash of the
 * schema name, so every valid schema name gets a working channel. @internal
 */
export function notifyChannel(schema: string): string {
  const plain = `pgqrs:${schema}`
  if (Buffer.byteLength(plain, 'utf8') <= 63) return plain
  return `pgqrs:${createHash('sha256').update(schema).digest('hex').slice(0, 40)}`
}
