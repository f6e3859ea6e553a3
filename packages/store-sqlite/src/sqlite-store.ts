import {
  ConnectionError,
  type PgqrsConfig,
  type ParsedDsn,
  PgqrsError,
  resolveConfig,
} from '@pgqrs/core'
import { KyselyStore, StatementCache } from '@pgqrs/store-kysely'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'

/** Options of {@link SqliteStore}: a file path, or a better-sqlite3 `Database` you keep and close yourself. */
export type SqliteStoreOptions = PgqrsConfig & {
  /** The database file (created if missing); `':memory:'` for a private in-memory database. */
  readonly path?: string
  /** An open better-sqlite3 database; the store never closes it. */
  readonly database?: Database.Database
  /** Epoch-ms clock for every visibility and lease decision (tests may inject one). Default `Date.now`. */
  readonly clock?: () => number
}

/** What a SQLite store can do; a private in-memory database is not shared with other processes. */
function sqliteCapabilities(shared: boolean) {
  return Object.freeze({
    concurrency: 'single-process',
    skipLocked: false,
    notifications: false,
    sharedAcrossProcesses: shared,
  } as const)
}

/**
 * The SQLite store (better-sqlite3): one file, no server. WAL journal, `busy_timeout` 5000 ms and
 * foreign keys on; writes run in `BEGIN IMMEDIATE` under one in-process mutex, so several processes
 * may share the file too.
 *
 * @example
 * ```ts
 * const store = new SqliteStore({ path: '/var/data/app.db' })
 * await store.migrate()
 * ```
 */
export class SqliteStore extends KyselyStore {
  /** The better-sqlite3 database the store runs on. */
  readonly database: Database.Database

  constructor(options: SqliteStoreOptions) {
    const { path, database, clock, ...config } = options
    const resolved = resolveConfig(config)
    if (!database && (typeof path !== 'string' || path === '')) {
      throw new PgqrsError(
        'CONFIG',
        'SqliteStore needs a path (or an open better-sqlite3 database)',
      )
    }
    let db: Database.Database
    try {
      db = database ?? new Database(path!)
    } catch (cause) {
      throw new ConnectionError(
        'sqlite',
        `Cannot open SQLite database ${JSON.stringify(path)}: ${(cause as Error).message}`,
        { cause },
      )
    }
    const inMemory = db.name === ':memory:' || db.memory || db.name === ''
    try {
      if (!inMemory) db.pragma('journal_mode = WAL')
      db.pragma('busy_timeout = 5000')
      db.pragma('foreign_keys = ON')
    } catch (cause) {
      // not a database (or unreadable): close what we opened before saying so
      if (!database) db.close()
      throw new ConnectionError(
        'sqlite',
        `Cannot use SQLite database ${JSON.stringify(path ?? db.name)}: ${(cause as Error).message}`,
        { cause },
      )
    }
    const owned = !database
    super({
      db: new Kysely({ dialect: new SqliteDialect({ database: cachingDatabase(db) }) }),
      family: 'sqlite',
      backend: 'sqlite',
      capabilities: sqliteCapabilities(!inMemory),
      config: resolved,
      sqliteBegin: 'raw',
      clock,
      onClose: async () => {
        if (owned) await this.db.destroy()
      },
    })
    this.database = db
  }
}

/**
 * What kysely's SQLite driver sees of `db`: `prepare` served from a per-connection statement
 * cache (kysely prepares every query anew, and each statement's native memory waits for a GC).
 */
function cachingDatabase(db: Database.Database): Pick<Database.Database, 'prepare' | 'close'> {
  const cache = new StatementCache<Database.Statement>()
  return {
    prepare: ((sql: string) =>
      cache.get(
        sql,
        (text) => db.prepare(text),
        (stmt) => !stmt.busy,
      )) as Database.Database['prepare'],
    close: () => {
      cache.clear()
      return db.close()
    },
  }
}

/** Opens a {@link SqliteStore} for a parsed `sqlite:` DSN (used by `connect()`). */
export async function openStore(dsn: ParsedDsn, config: PgqrsConfig): Promise<SqliteStore> {
  if (dsn.backend !== 'sqlite')
    throw new PgqrsError('CONFIG', `@pgqrs/store-sqlite cannot open a ${dsn.backend} DSN`)
  return new SqliteStore({ ...config, path: dsn.path })
}
