import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { PgqrsConfig } from './config.js'
import { resolveConfig } from './config.js'
import { parseDsn, type ParsedDsn } from './dsn.js'
import { ConfigError } from './errors.js'
import { scrubError, secretsOf } from './secrets.js'
import type { Store } from './store/store.js'

/**
 * Where a store package is: first as seen from @pgqrs/core (npm, yarn and pnpm's default hoisting),
 * then from the application's working directory (a strict pnpm layout, where @pgqrs/core cannot
 * see its siblings). Returns the URL or specifier to import, or the resolution error.
 */
function locate(pkg: string): string | Error {
  try {
    return import.meta.resolve(pkg)
  } catch (first) {
    try {
      return pathToFileURL(createRequire(join(process.cwd(), 'noop.js')).resolve(pkg)).href
    } catch {
      return first as Error
    }
  }
}

/** What every store package exports so that {@link connect} can open it by DSN. */
export interface StorePackage {
  /** Opens a store for a parsed DSN; checks the connection within `connectTimeoutMs`. */
  openStore(dsn: ParsedDsn, config: PgqrsConfig): Promise<Store>
}

/**
 * Opens a store by DSN. The backend is chosen by exact URL scheme and its package is loaded with a
 * dynamic import, so only the store you use needs to be installed:
 * `postgres://` → `@pgqrs/store-postgres`, `sqlite:` → `@pgqrs/store-sqlite`,
 * `turso:` / `libsql:` → `@pgqrs/store-turso`.
 *
 * @example
 * ```ts
 * const store = await connect('sqlite:///var/data/app.db')
 * const pg = await connect('postgres://user@localhost:5432/app', { schema: 'jobs' })
 * ```
 * @throws ConfigError for an unknown scheme, a malformed URL, bad config or a missing store package.
 * @throws ConnectionError when the database cannot be reached within `connectTimeoutMs`.
 */
export async function connect(dsn: string, config: PgqrsConfig = {}): Promise<Store> {
  const parsed = parseDsn(dsn)
  resolveConfig(config)
  const target = locate(parsed.package)
  if (target instanceof Error) {
    const missing = target
    throw new ConfigError(
      'dsn',
      `The ${parsed.backend} backend needs the package ${parsed.package}: install it with \`pnpm add ${parsed.package}\` (or npm install ${parsed.package})`,
      { cause: missing },
    )
  }
  let mod: Partial<StorePackage>
  try {
    mod = (await import(target)) as Partial<StorePackage>
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new ConfigError(
        'dsn',
        `${parsed.package} is installed but one of its dependencies is missing (${(cause as Error).message.split('\n')[0]}): reinstall it with its driver`,
        { cause },
      )
    }
    throw cause
  }
  if (typeof mod.openStore !== 'function') {
    throw new ConfigError(
      'dsn',
      `${parsed.package} does not export openStore(): install a matching version`,
    )
  }
  try {
    return await mod.openStore(parsed, config)
  } catch (e) {
    // A failing connect must not carry the DSN's password or token anywhere in its error chain.
    throw scrubError(e, secretsOf(dsn))
  }
}
