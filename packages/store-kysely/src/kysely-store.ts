import {
  type PgqrsConfig,
  type ResolvedConfig,
  type Store,
  type StoreCapabilities,
  type StoreRepositories,
  type StoreTransaction,
  type Subscription,
  resolveConfig,
  callStoreMethod,
  type QueueRecord,
  ValidationError,
} from '@pgqrs/core'
import type { Kysely } from 'kysely'
import { type Family, sqlDialect } from './dialect.js'
import { type Exec, type SqliteBegin, StoreExec, TxExec } from './exec.js'
import { listMigrations, runMigrations } from './migrator.js'
import { KyselyMessageRepository } from './repos/messages.js'
import { KyselyQueueRepository } from './repos/queues.js'
import { KyselyRunRepository } from './repos/runs.js'
import { KyselyStepRepository } from './repos/steps.js'
import { KyselyWorkerRepository } from './repos/workers.js'
import { KyselyWorkflowRepository } from './repos/workflows.js'

/** Options of {@link KyselyStore}. */
export interface KyselyStoreOptions {
  /** Any Kysely instance whose dialect is of the postgres or sqlite family. */
  readonly db: Kysely<any>
  /** The SQL family of the dialect. */
  readonly family: Family
  /** `'postgres' | 'sqlite' | 'turso'` or your adapter's name. */
  readonly backend: string
  readonly capabilities: StoreCapabilities
  readonly config?: PgqrsConfig | ResolvedConfig
  /** sqlite family: how write transactions begin (see the README of @pgqrs/store-kysely). Default `raw`. */
  readonly sqliteBegin?: SqliteBegin
  /** sqlite family: the clock in epoch ms (tests may inject one). Default `Date.now`. */
  readonly clock?: () => number
  /** sqlite family: called after a busy BEGIN, before it is retried. */
  readonly onBusy?: () => Promise<void>
  /** Called by `close()` to release what the subclass opened (the store never closes `db` itself otherwise). */
  readonly onClose?: () => Promise<void>
}

function isResolved(c: PgqrsConfig | ResolvedConfig | undefined): c is ResolvedConfig {
  return (
    Object.isFrozen(c) &&
    typeof (c as ResolvedConfig)?.logger?.warn === 'function' &&
    'leaseMs' in (c as object)
  )
}

/** Builds the six repositories over one {@link Exec}. */
function repositories(x: Exec, config: ResolvedConfig, channel: string | null): StoreRepositories {
  return {
    queues: new KyselyQueueRepository(x),
    messages: new KyselyMessageRepository(x, config, channel),
    workers: new KyselyWorkerRepository(x),
    workflows: new KyselyWorkflowRepository(x),
    runs: new KyselyRunRepository(x, config, channel),
    steps: new KyselyStepRepository(x, config),
  }
}

/**
 * A {@link Store} over any Kysely dialect of the postgres or sqlite family. All pgqrs SQL lives in
 * this package; a driver package only builds the Kysely instance (and may add notifications).
 *
 * @example
 * ```ts
 * class MyStore extends KyselyStore {
 *   constructor() {
 *     super({ db: new Kysely({ dialect: myDialect }), family: 'sqlite', backend: 'my-sqlite',
 *       capabilities: { concurrency: 'single-process', skipLocked: false, notifications: false } })
 *   }
 * }
 * ```
 */
export class KyselyStore implements Store {
  readonly backend: string
  readonly capabilities: StoreCapabilities
  readonly config: ResolvedConfig
  readonly queues
  readonly messages
  readonly workers
  readonly workflows
  readonly runs
  readonly steps
  /** The Kysely instance the store runs on. */
  readonly db: Kysely<any>
  readonly #exec: StoreExec
  readonly #channel: string | null
  readonly #onClose: (() => Promise<void>) | undefined
  #closed: Promise<void> | null = null

  constructor(options: KyselyStoreOptions) {
    this.config = isResolved(options.config) ? options.config : resolveConfig(options.config)
    this.backend = options.backend
    this.capabilities = Object.freeze({ ...options.capabilities })
    this.db = options.db
    this.#onClose = options.onClose
    this.#channel =
      options.family === 'postgres' && options.capabilities.notifications
        ? notifyChannel(this.config.schema)
        : null
    const d = sqlDialect(options.family, this.config.schema, options.clock ?? Date.now)
    this.#exec = new StoreExec({
      db: options.db,
      d,
      backend: options.backend,
      schema: this.config.schema,
      sqliteBegin: options.sqliteBegin,
      onBusy: options.onBusy,
    })
    const repos = repositories(this.#exec, this.config, this.#channel)
    this.queues = repos.queues
    this.messages = repos.messages
    this.workers = repos.workers
    this.workflows = repos.workflows
    this.runs = repos.runs
    this.steps = repos.steps
  }

  /** The NOTIFY channel of this store's schema (Postgres), or null. */
  get notifyChannel(): string | null {
    return this.#channel
  }

  /** Creates or upgrades the schema: idempotent, serialised between processes. */
  async migrate(): Promise<void> {
    await runMigrations(this.#exec, this.config.schema)
  }

  /** The applied migration names, oldest first. */
  migrations(): Promise<string[]> {
    return listMigrations(this.#exec, this.config.schema)
  }

  /** Runs `fn` in one transaction with repositories bound to it and `tx.db` for your own writes. */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.#exec.transaction((trx) => {
      const x = new TxExec(this.#exec, trx)
      return fn({ ...repositories(x, this.config, this.#channel), db: trx })
    })
  }

  /** Repositories bound to the caller's open transaction (a Kysely transaction or a StoreTransaction). */
  withTransaction(tx: unknown): StoreRepositories {
    if (typeof tx === 'object' && tx !== null && 'messages' in tx && 'runs' in tx)
      return tx as StoreTransaction
    return repositories(
      new TxExec(this.#exec, this.adaptTransaction(tx)),
      this.config,
      this.#channel,
    )
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

  /** A producer for `queue` (available once `@pgqrs/queue` is imported). */
  producer(...args: unknown[]): Promise<any> {
    return callStoreMethod('producer', this, args) as Promise<any>
  }

  /** A consumer of `queue` (available once `@pgqrs/queue` is imported). */
  consumer(...args: unknown[]): Promise<any> {
    return callStoreMethod('consumer', this, args) as Promise<any>
  }

  /** No notifications by default; the Postgres store overrides this. */
  async listen(
    _channels: readonly string[],
    _onNotify: (channel: string) => void,
  ): Promise<Subscription | null> {
    return null
  }

  /** Releases what the store opened; safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#onClose?.()
    })()
    return this.#closed
  }
}

/** The NOTIFY channel for a schema: one per schema, the queue name as payload. @internal */
export function notifyChannel(schema: string): string {
  return `pgqrs:${schema}`
}
