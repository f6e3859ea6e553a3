import { type Client, createClient } from '@libsql/client'
import { LibsqlDialect } from '@libsql/kysely-libsql'
import {
  ConnectionError,
  type PgqrsConfig,
  type ParsedDsn,
  PgqrsError,
  redactUrl,
  resolveConfig,
  safeCause,
  secretsOf,
} from '@pgqrs/core'
import { isBusy, KyselyStore } from '@pgqrs/store-kysely'
import { Kysely } from 'kysely'
import { LocalClient } from './local-client.js'

/**
 * The file path of a plain local `file:` URL (`file:/a.db`, `file:///a.db`, `file:a.db`), or null
 * for anything the libSQL client must handle (a query string, a host).
 */
function localPath(url: string): string | null {
  if (!url.startsWith('file:') || url.includes('?')) return null
  const rest = url.slice('file:'.length)
  if (rest.startsWith('//') && !rest.startsWith('///')) return null
  return decodeURIComponent(rest.startsWith('///') ? rest.slice(2) : rest)
}

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
  sharedAcrossProcesses: true,
} as const)

/**
 * The Turso / libSQL store. libSQL does not serialise transactions; `busy_timeout` is 0 because a
 * blocking wait would freeze the event loop (and with it the lock holder, when that is this process),
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
  readonly #conn: Connection
  #ready: Promise<void>

  constructor(options: TursoStoreOptions) {
    const { url, authToken, client, clock, ...config } = options
    const resolved = resolveConfig(config)
    if (!client && (typeof url !== 'string' || url === '')) {
      throw new PgqrsError('CONFIG', 'TursoStore needs a url (or an open libSQL client)')
    }
    const conn = new Connection(client ?? null, url ?? '', authToken)
    super({
      db: new Kysely({ dialect: new LibsqlDialect({ client: conn.facade as never }) }),
      family: 'sqlite',
      backend: 'turso',
      capabilities: TURSO_CAPABILITIES,
      config: resolved,
      sqliteBegin: 'kysely',
      clock,
      onBusy: () => this.#reconnect(),
      onClose: async () => {
        await this.#ready.catch(() => {})
        conn.close()
      },
    })
    this.#conn = conn
    this.#ready = conn.setup()
  }

  /** The libSQL client the store runs on now. */
  get client(): Client {
    return this.#conn.current
  }

  // libSQL leaves a connection whose BEGIN failed with SQLITE_BUSY unusable ("cannot commit
  // transaction - SQL statements in progress" on its next COMMIT), so a store that owns its
  // client replaces it before retrying.
  async #reconnect(): Promise<void> {
    if (!this.#conn.owned) return
    this.#conn.reopen()
    this.#ready = this.#conn.setup()
    await this.#ready.catch(() => {})
  }

  /** Resolves once the connection is set up (pragmas applied); rejects with `ConnectionError`. */
  async ready(): Promise<void> {
    try {
      await this.#ready
    } catch (cause) {
      const safe = safeCause(cause, this.#conn.secrets)
      throw new ConnectionError('turso', `Cannot set up libSQL database: ${safe.message}`, {
        cause: safe,
      })
    }
  }

  override async migrate(): Promise<void> {
    await this.ready()
    return super.migrate()
  }
}

/** The libSQL client behind a stable facade, so the store can replace a broken connection. */
class Connection {
  current: Client
  readonly owned: boolean
  readonly #url: string
  readonly #authToken: string | undefined
  /** The auth token and URL secrets: masked in every error the store builds. */
  readonly secrets: string[]
  readonly facade: Pick<Client, 'execute' | 'transaction' | 'batch' | 'executeMultiple' | 'close'>

  constructor(client: Client | null, url: string, authToken: string | undefined) {
    this.owned = client === null
    this.#url = url
    this.#authToken = authToken
    this.secrets = [...secretsOf(url), ...(authToken ? [authToken] : [])]
    this.current = client ?? this.#open()
    this.facade = {
      execute: ((...a: Parameters<Client['execute']>) =>
        this.current.execute(...a)) as Client['execute'],
      transaction: ((...a: Parameters<Client['transaction']>) =>
        this.current.transaction(...a)) as Client['transaction'],
      batch: ((...a: Parameters<Client['batch']>) => this.current.batch(...a)) as Client['batch'],
      executeMultiple: (sqlText: string) => this.current.executeMultiple(sqlText),
      close: () => {},
    }
  }

  #open(): Client {
    try {
      // A local file: our client, with a statement cache (@libsql/client prepares every statement
      // anew). Remote databases go through @libsql/client.
      const path = localPath(this.#url)
      if (path !== null) return new LocalClient(path)
      // One connection: pragmas are per connection, and the store's mutex serialises every call.
      return createClient({
        url: this.#url,
        authToken: this.#authToken,
        concurrency: 1,
      } as Parameters<typeof createClient>[0])
    } catch (cause) {
      const safe = safeCause(cause, this.secrets)
      throw new ConnectionError(
        'turso',
        `Cannot open libSQL database ${JSON.stringify(redactUrl(this.#url))}: ${safe.message}`,
        { cause: safe },
      )
    }
  }

  reopen(): void {
    const old = this.current
    this.current = this.#open()
    try {
      old.close()
    } catch {
      // already broken
    }
  }

  /** WAL, foreign keys, and `busy_timeout` 0 (a blocking wait would freeze the event loop). */
  async setup(): Promise<void> {
    if (!this.owned || !this.#url.startsWith('file:')) return
    // Switching a new file to WAL takes an exclusive lock: processes opening it at the same moment
    // get SQLITE_BUSY. Retry with async backoff on a fresh connection (a busy statement leaves
    // libSQL's connection unusable), as writes do.
    const deadline = Date.now() + 30_000
    for (let attempt = 0; ; attempt++) {
      try {
        await this.current.executeMultiple(
          'PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 0; PRAGMA foreign_keys = ON;',
        )
        return
      } catch (e) {
        if (!isBusy(e) || Date.now() > deadline) throw e
        this.reopen()
        await new Promise((r) =>
          setTimeout(r, Math.min(5 * 2 ** attempt, 250) * (0.5 + Math.random())),
        )
      }
    }
  }

  close(): void {
    if (this.owned) this.current.close()
  }
}

/** Opens a {@link TursoStore} for a parsed `turso:` or `libsql:` DSN (used by `connect()`). */
export async function openStore(dsn: ParsedDsn, config: PgqrsConfig): Promise<TursoStore> {
  if (dsn.backend !== 'turso')
    throw new PgqrsError('CONFIG', `@pgqrs/store-turso cannot open a ${dsn.backend} DSN`)
  const store = new TursoStore({ ...config, url: dsn.url, authToken: dsn.authToken })
  try {
    await store.ready()
  } catch (e) {
    await store.close() // never leave the client open behind a failed connect
    throw e
  }
  return store
}
