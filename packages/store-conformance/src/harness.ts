import type { PgqrsConfig, Store, StoreCapabilities } from '@pgqrs/core'
import type { Shortcut } from './plan.js'

/** How the conformance suite gets stores of one backend. */
export interface StoreHarness {
  /** 'postgres', 'sqlite', 'turso', 'my-adapter'. */
  readonly name: string
  /** Declared up front: the suite picks its capability-gated parts at collection time. */
  readonly capabilities: StoreCapabilities
  /**
   * The optional store methods the store implements (default none). The suite checks that the
   * store has exactly these, and registers the tests of a shortcut's own contract only when
   * declared.
   */
  readonly shortcuts?: readonly Shortcut[]
  /**
   * A fresh store, isolated from every other one (its own schema or database file), migrated unless
   * `migrate: false`. `config` is passed through to the store.
   */
  create(options?: { config?: PgqrsConfig; migrate?: boolean }): Promise<Store>
  /**
   * How another process opens the same database: a DSN and config for `connect()` from
   * `@pgqrs/core`. Multi-process tests fork children that call `connect(dsn, config)`.
   */
  connection(store: Store): { dsn: string; config: PgqrsConfig }
  /**
   * Optional: a Kysely instance on the store's database and the schema of its tables (null where
   * there is none), for the tests of writes in the caller's own transaction (transactional steps,
   * enqueue inside a Kysely transaction). Without it those tests are not registered.
   */
  kysely?(store: Store): { readonly db: unknown; readonly schema: string | null }
  /** Closes the store and removes what `create` made (drops the schema, deletes the file). */
  destroy(store: Store): Promise<void>
}
