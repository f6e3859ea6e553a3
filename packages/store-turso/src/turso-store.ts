import { type Client, createClient } from '@libsql/client'
import { LibsqlDialect } from '@libsql/kysely-libsql'
import {
  ConnectionError,
  type PgqrsConfig,
  type ParsedDsn,
  PgqrsError,
  resolveConfig,
} from '@pgqrs/core'
import { KyselyStore } from '@pgqrs/store-kysely'
import { Kysely } from 'kysely'

/** Options of {@link TursoStore}: a URL, or a libSQL client you keep and close yourself. */
export type TursoStoreOptions = PgqrsConfig & {
  /** `file:/path/app.db` for a local file, or `libsql://db-org.turso.io` for a remote database. */
  readonly url?: string
  readonly authToken?: string
  /** An open `@libsql/client` client; the store never closes it. */
  readonly client?: Client
  /** Epoch-ms clock for every visibility and lease decision (tests may inject one). Default `Date.now`. */
  readonly clock?: () => number
}

const TURSO_CAPABILITIES = Object.freeze({
  concurrency: 'single-process',
  skipLocked: false,
  notifications: false,
} as const)

/**
 * The Turso / libSQL store. libSQL does not serialise transactions and fails a busy write at once,
 * so every operation runs under one in-process mutex and write transactions (`BEGIN IMMEDIATE`)
 * are retried with async backoff while another process holds the lock; a statement that may have
 * committed is never retried.
 *
 * @example
 * ```ts
 * const store = new TursoStore({ url: 'file:/var/data/app.db' })
 * await store.migrate()
 * ```
 */
export class TursoStore extends KyselyStore {
  /** The libSQL client the store runs on. */
  readonly client: Client
  readonly #ready: Promise<void>

  constructor(options: TursoStoreOptions) {
    const { url, authToken, client, clock, ...config } = options
    const resolved = resolveConfig(config)
    if (!client && (typeof url !== 'string' || url === '')) {
      throw new PgqrsError('CONFIG', 'TursoStore needs a url (or an open libSQL client)')
    }
    let c: Client
    try {
      // One connection: pragmas are per connection, and our mutex serialises every call anyway.
      c =
        client ??
        createClient({ url: url!, authToken, concurrency: 1 } as Parameters<typeof createClient>[0])
    } catch (cause) {
      throw new ConnectionError(
        'turso',
        `Cannot open libSQL database ${JSON.stringify(url)}: ${(cause as Error).message}`,
        { cause },
      )
    }
    const owned = !client
    super({
      db: new Kysely({ dialect: new LibsqlDialect({ client: c as never }) }),
      family: 'sqlite',
      backend: 'turso',
      capabilities: TURSO_CAPABILITIES,
      config: resolved,
      sqliteBegin: 'kysely',
      clock,
      onClose: async () => {
        await this.#ready.catch(() => {})
        if (owned) c.close()
      },
    })
    this.client = c
    const local = (url ?? '').startsWith('file:')
    this.#ready = local
      ? c
          .executeMultiple(
            'PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;',
          )
          .then(() => undefined)
      : Promise.resolve()
  }

  /** Resolves once the connection is set up (pragmas applied); rejects with `ConnectionError`. */
  async ready(): Promise<void> {
    try {
      await this.#ready
    } catch (cause) {
      throw new ConnectionError(
        'turso',
        `Cannot set up libSQL database: ${(cause as Error).message}`,
        { cause },
      )
    }
  }

  override async migrate(): Promise<void> {
    await this.ready()
    return super.migrate()
  }
}

/** Opens a {@link TursoStore} for a parsed `turso:` or `libsql:` DSN (used by `connect()`). */
export async function openStore(dsn: ParsedDsn, config: PgqrsConfig): Promise<TursoStore> {
  if (dsn.backend !== 'turso')
    throw new PgqrsError('CONFIG', `@pgqrs/store-turso cannot open a ${dsn.backend} DSN`)
  const store = new TursoStore({ ...config, url: dsn.url, authToken: dsn.authToken })
  await store.ready()
  return store
}
