import type { PgqrsConfig, Store, StoreCapabilities } from '@pgqrs/core'

/** How the conformance suite gets stores of one backend. */
export interface StoreHarness {
  /** 'postgres', 'sqlite', 'turso', 'my-adapter'. */
  readonly name: string
  /** Declared up front: `skipIf` runs at collection time. */
  readonly capabilities: StoreCapabilities
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
  /** Closes the store and removes what `create` made (drops the schema, deletes the file). */
  destroy(store: Store): Promise<void>
}
