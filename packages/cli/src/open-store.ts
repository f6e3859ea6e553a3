import {
  type PgqrsConfig,
  parseDsn,
  resolveConfig,
  type Store,
  type StorePackage,
} from '@pgqrs/core'

/**
 * The store packages, loaded by backend from the CLI's own dependencies (only the one in use is
 * imported). `connect()` from `@pgqrs/core` resolves them from core's location instead, which a
 * strict package layout may not allow; the CLI depends on all three, so it resolves them itself.
 */
const STORE_PACKAGES: Record<string, () => Promise<StorePackage>> = {
  postgres: () => import('@pgqrs/store-postgres'),
  sqlite: () => import('@pgqrs/store-sqlite'),
  turso: () => import('@pgqrs/store-turso'),
}

/**
 * Opens the store for `dsn`, as `connect()` does: `ConfigError` for a bad DSN or config,
 * `ConnectionError` when the database does not answer within `connectTimeoutMs`.
 */
export async function openStore(dsn: string, config: PgqrsConfig): Promise<Store> {
  const parsed = parseDsn(dsn)
  resolveConfig(config)
  const load = STORE_PACKAGES[parsed.backend]
  if (!load) throw new Error(`no store package for the ${parsed.backend} backend`)
  return (await load()).openStore(parsed, config)
}
