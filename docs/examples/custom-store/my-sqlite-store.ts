// A custom store: pgqrs over a Kysely dialect of your choice. This one is a second
// better-sqlite3 store with its own name and pragmas; a PGlite, Bun SQLite, D1 or Neon adapter
// looks the same with another dialect (family 'postgres' for PostgreSQL dialects).
import type { PgqrsConfig } from '@pgqrs/core'
import { KyselyStore } from '@pgqrs/store-kysely'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'

/** Options of {@link MySqliteStore}: the file, plus the usual pgqrs config. */
export type MySqliteStoreOptions = PgqrsConfig & { readonly path: string }

/** pgqrs on a better-sqlite3 file, with a bigger page cache than the built-in store. */
export class MySqliteStore extends KyselyStore {
  /** The better-sqlite3 database under the store. */
  readonly database: Database.Database

  constructor(options: MySqliteStoreOptions) {
    const { path, ...config } = options
    const database = new Database(path)
    database.pragma('journal_mode = WAL') // readers never block the writer
    database.pragma('busy_timeout = 5000') // wait for another process's write lock
    database.pragma('foreign_keys = ON') // the pgqrs schema relies on them
    database.pragma('cache_size = -65536') // 64 MiB: this adapter's own twist
    super({
      db: new Kysely({ dialect: new SqliteDialect({ database }) }),
      family: 'sqlite', // all SQL comes from @pgqrs/store-kysely's sqlite family
      backend: 'my-sqlite', // shows up in logs and errors
      capabilities: {
        concurrency: 'single-process',
        skipLocked: false,
        notifications: false,
        sharedAcrossProcesses: true, // other processes may open the same file
      },
      config,
      onClose: async () => {
        await this.db.destroy() // close what we opened, and only that
      },
    })
    this.database = database
  }
}
