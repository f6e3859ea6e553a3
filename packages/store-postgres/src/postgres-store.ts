import {
  ConnectionError,
  type PgqrsConfig,
  type ParsedDsn,
  PgqrsError,
  type Subscription,
  resolveConfig,
  safeCause,
  secretsOf,
} from '@pgqrs/core'
import { KyselyStore } from '@pgqrs/store-kysely'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'

/** Options of {@link PostgresStore}: a connection string, or a pool you keep and close yourself. */
export type PostgresStoreOptions = PgqrsConfig & {
  readonly connectionString?: string
  /** A `pg.Pool` of yours; the store never closes it. */
  readonly pool?: pg.Pool
  /**
   * A direct (session) connection for LISTEN, when `connectionString`/`pool` go through a pooler in
   * transaction mode (PgBouncer), where notifications never arrive. Default: a pool connection.
   */
  readonly listenUrl?: string
}

const POSTGRES_CAPABILITIES = Object.freeze({
  concurrency: 'multi-process',
  skipLocked: true,
  notifications: true,
  sharedAcrossProcesses: true,
} as const)

/**
 * The PostgreSQL store: many processes on many hosts, `FOR UPDATE SKIP LOCKED` claims, the database
 * clock for every lease decision, and LISTEN/NOTIFY wake-ups. Tables live in the `schema` option
 * (default `pgqrs`), which install creates.
 *
 * @example
 * ```ts
 * const store = new PostgresStore({ connectionString: 'postgres://app@localhost/app', schema: 'jobs' })
 * await store.migrate()
 * // or share your pool (never closed by the store):
 * const shared = new PostgresStore({ pool })
 * ```
 */
export class PostgresStore extends KyselyStore {
  readonly #pool: pg.Pool
  readonly #listener: Listener
  readonly #secrets: string[]

  constructor(options: PostgresStoreOptions) {
    const { connectionString, pool, listenUrl, ...config } = options
    const resolved = resolveConfig(config)
    if (!pool && (typeof connectionString !== 'string' || connectionString === '')) {
      throw new PgqrsError('CONFIG', 'PostgresStore needs a connectionString (or a pg Pool)')
    }
    const p =
      pool ??
      new pg.Pool({
        connectionString,
        max: resolved.maxConnections,
        connectionTimeoutMillis: resolved.connectTimeoutMs,
        // the server cancels a statement that runs longer than this
        statement_timeout: resolved.statementTimeoutMs,
        // a peer that vanished (a host gone, a cut cable) is noticed by the kernel
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      })
    if (!pool) {
      // An idle client that dies (server restart) must not crash the process; the next query reconnects.
      p.on('error', (err) =>
        resolved.logger.warn('idle postgres connection failed', { error: err.message }),
      )
    }
    // pg-pool drops its error listener while a client is checked out, and an 'error' event with no
    // listener is an uncaught exception: a connection broken mid-query would kill the process
    // instead of failing that query (which pgqrs reports as ConnectionError). Listen on every client.
    // The pool's idle connections: when one connection turns out to be silent, the network path
    // they share is likely gone too, and each would cost another timeout to find out one by one.
    const idle = new Set<pg.PoolClient>()
    p.on('connect', (client) => {
      client.on('error', (err) =>
        resolved.logger.warn('postgres connection failed', { error: err.message }),
      )
      if (pool) return
      idle.add(client)
      guardClient(client, resolved.statementTimeoutMs, () => {
        for (const c of idle) destroyStream(c, new Error('closed with a silent sibling connection'))
        idle.clear()
      })
    })
    if (!pool) {
      p.on('acquire', (client) => idle.delete(client))
      p.on('release', (_err, client) => idle.add(client))
      p.on('remove', (client) => idle.delete(client))
    }
    const owned = !pool
    super({
      db: new Kysely({ dialect: new PostgresDialect({ pool: p }) }),
      family: 'postgres',
      backend: 'postgres',
      capabilities: POSTGRES_CAPABILITIES,
      config: resolved,
      onClose: async () => {
        await this.#listener.close()
        if (owned) await p.end()
      },
    })
    this.#pool = p
    this.#secrets = secretsOf(connectionString ?? null)
    this.#listener = new Listener(p, this.notifyChannel!, resolved.logger, listenUrl)
  }

  /** The pool the store runs on (yours when you passed one). */
  get pool(): pg.Pool {
    return this.#pool
  }

  /** Checks that the database answers within `connectTimeoutMs`; throws `ConnectionError`. */
  async ping(): Promise<void> {
    const ms = this.config.connectTimeoutMs
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        this.pool.query('select 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
        }),
      ])
    } catch (cause) {
      const safe = safeCause(cause, this.#secrets)
      throw new ConnectionError('postgres', `Cannot reach PostgreSQL: ${safe.message}`, {
        cause: safe,
      })
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Also accepts a `pg` client inside the caller's `BEGIN` (for example `await pool.connect()` then
   * `client.query('begin')`): pgqrs statements run on that client and commit with the caller.
   */
  protected override adaptTransaction(tx: unknown): Kysely<any> {
    const client = tx as { query?: unknown; executeQuery?: unknown } | null
    if (client && typeof client.query === 'function' && typeof client.executeQuery !== 'function') {
      const borrowed = client as unknown as pg.PoolClient
      const pool = {
        // The caller owns the client: never release it, never end it.
        connect: async () => ({
          query: (...args: unknown[]) =>
            (borrowed as unknown as { query: (...a: unknown[]) => unknown }).query(...args),
          release: () => {},
        }),
        end: async () => {},
      }
      return new Kysely({ dialect: new PostgresDialect({ pool: pool as never }) })
    }
    return super.adaptTransaction(tx)
  }

  /** False once a LISTEN self-test showed that notifications do not arrive here (workers then poll). */
  get notificationsWorking(): boolean {
    return this.#listener.working
  }

  /** Calls `onNotify(queue)` when a message is enqueued to one of `channels` (queue names). */
  override listen(
    channels: readonly string[],
    onNotify: (channel: string) => void,
  ): Promise<Subscription | null> {
    return this.#listener.subscribe(channels, onNotify)
  }
}

/**
 * Closes a pooled connection whose statement gets no answer within `timeoutMs` (plus half a second for
 * the server's own `statement_timeout` to answer first): a half-open connection (the network
 * dropped it without a reset) would otherwise hang the query, and the claim or `stop()` waiting
 * on it, until the kernel gives up many minutes later. The query rejects with an `ETIMEDOUT`
 * error, which pgqrs reports as `ConnectionError`; the pool replaces the connection, and
 * `onSilent` lets the caller close the connections that share its fate. @internal
 */
export function guardClient(client: pg.ClientBase, timeoutMs: number, onSilent?: () => void): void {
  const original = client.query.bind(client) as (...args: unknown[]) => unknown
  const limit = timeoutMs + 500
  ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
    const result = original(...args)
    if (!(result instanceof Promise)) return result // callback style (pg-pool's own calls)
    let timer: NodeJS.Timeout | undefined
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = Object.assign(
          new Error(`PostgreSQL gave no answer within ${limit} ms: the connection was closed`),
          { code: 'ETIMEDOUT' },
        )
        reject(error)
        destroyStream(client, error)
        onSilent?.()
      }, limit)
      timer.unref?.()
    })
    return Promise.race([result, silent]).finally(() => clearTimeout(timer))
  }
}

/** Ends a connection's socket at once (no goodbye to a peer that does not answer). */
function destroyStream(client: pg.ClientBase, error: Error): void {
  ;(
    client as unknown as { connection?: { stream?: { destroy(e?: Error): void } } }
  ).connection?.stream?.destroy(error)
}

/** One LISTEN connection per store, shared by every subscription. @internal */
class Listener {
  readonly #pool: pg.Pool
  readonly #listenUrl: string | undefined
  readonly #channel: string
  readonly #logger: { warn: (m: string, meta?: Record<string, unknown>) => void }
  readonly #subs = new Set<{ channels: Set<string>; fn: (c: string) => void }>()
  #client: Promise<pg.ClientBase> | null = null
  #closed = false
  #retryMs = 500
  #probe: { token: string; resolve: () => void } | null = null
  #broken = false
  #releaseClient: ((destroy: boolean) => void) | null = null

  constructor(pool: pg.Pool, channel: string, logger: Listener['logger'], listenUrl?: string) {
    this.#pool = pool
    this.#channel = channel
    this.#logger = logger
    this.#listenUrl = listenUrl
  }

  get logger() {
    return this.#logger
  }

  /** False once the self-test showed that notifications do not arrive (e.g. PgBouncer in transaction mode). */
  get working(): boolean {
    return !this.#broken
  }

  async #connect(): Promise<pg.ClientBase> {
    let client: pg.ClientBase
    let giveBack: (destroy: boolean) => void
    if (this.#listenUrl) {
      const c = new pg.Client({ connectionString: this.#listenUrl })
      await c.connect()
      client = c
      giveBack = () => void c.end().catch(() => {})
    } else {
      const c = await this.#pool.connect()
      client = c
      giveBack = (destroy) => c.release(destroy)
    }
    const onNotification = (n: pg.Notification) => {
      if (n.channel !== this.#channel || !n.payload) return
      if (this.#probe && n.payload === this.#probe.token) return this.#probe.resolve()
      for (const s of this.#subs) if (s.channels.has(n.payload)) s.fn(n.payload)
    }
    const onError = (err: Error) => {
      this.#logger.warn('LISTEN connection failed; reconnecting (workers poll meanwhile)', {
        error: err.message,
      })
      this.#client = null
      release(true)
      this.#reconnectLater()
    }
    // A pooled client is reused later by other queries: take our listeners off when giving it back.
    let released = false
    const release = (destroy: boolean) => {
      if (released) return
      released = true
      client.off('notification', onNotification)
      client.off('error', onError)
      if (this.#releaseClient === release) this.#releaseClient = null
      giveBack(destroy)
    }
    client.on('notification', onNotification)
    client.on('error', onError)
    try {
      await client.query(`LISTEN "${this.#channel.replaceAll('"', '""')}"`)
      await this.#selfTest(client)
    } catch (e) {
      release(true)
      throw e
    }
    this.#releaseClient = release
    return client
  }

  /**
   * LISTEN "succeeds" behind PgBouncer in transaction mode, but notifications never arrive. Send
   * one from a separate connection opened with the pool's own settings (outside the pool, so a
   * pool of one connection held by this listener cannot make the test wait) and wait for it; if
   * it does not come, say so loudly once and let the workers poll. Sending it on the listening
   * connection itself is not a test: a transaction-mode pooler may hand that NOTIFY the very
   * server session that ran LISTEN, which then hears itself although nothing else ever reaches
   * it (seen in CI). Only if the separate connection cannot be opened is the listening one used.
   */
  async #selfTest(client: pg.ClientBase): Promise<void> {
    const token = `__pgqrs_probe__:${Math.random().toString(36).slice(2)}`
    const arrived = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 2_000)
      this.#probe = {
        token,
        resolve: () => {
          clearTimeout(timer)
          resolve(true)
        },
      }
    })
    await this.#sendProbe(client, token)
    const ok = await arrived
    this.#probe = null
    if (!ok && !this.#broken) {
      this.#broken = true
      this.#logger.warn(
        'LISTEN/NOTIFY does not work on this connection (PgBouncer in transaction mode?): workers fall back to polling every pollIntervalMs; pass listenUrl with a direct (session) connection to get wake-ups',
      )
    }
    if (ok) this.#broken = false
  }

  /** Sends the self-test NOTIFY from a connection of its own (see #selfTest). */
  async #sendProbe(listening: pg.ClientBase, token: string): Promise<void> {
    const sql = 'select pg_catalog.pg_notify($1, $2)'
    const sender = new pg.Client({
      ...this.#pool.options,
      connectionTimeoutMillis: 2_000,
      query_timeout: 2_000,
    })
    sender.on('error', () => {})
    try {
      await sender.connect()
    } catch {
      sender.end().catch(() => {})
      await listening.query(sql, [this.#channel, token])
      return
    }
    try {
      await sender.query(sql, [this.#channel, token])
    } finally {
      sender.end().catch(() => {})
    }
  }

  #reconnectLater(): void {
    if (this.#closed || this.#subs.size === 0) return
    const wait = this.#retryMs
    this.#retryMs = Math.min(this.#retryMs * 2, 30_000)
    setTimeout(() => {
      if (this.#closed || this.#subs.size === 0 || this.#client) return
      this.#client = this.#connect().then(
        (c) => {
          this.#retryMs = 500
          // Notifications sent while we were away are lost: wake every subscriber once.
          for (const s of this.#subs) for (const ch of s.channels) s.fn(ch)
          return c
        },
        (e) => {
          this.#client = null
          this.#logger.warn('LISTEN reconnect failed; retrying', { error: (e as Error).message })
          this.#reconnectLater()
          throw e
        },
      )
      this.#client.catch(() => {})
    }, wait).unref?.()
  }

  async subscribe(channels: readonly string[], fn: (c: string) => void): Promise<Subscription> {
    if (this.#closed) throw new PgqrsError('STORE', 'store is closed')
    const sub = { channels: new Set(channels), fn }
    this.#subs.add(sub)
    this.#client ??= this.#connect().catch((e) => {
      this.#client = null
      throw e
    })
    try {
      await this.#client
    } catch (cause) {
      this.#subs.delete(sub)
      throw new ConnectionError('postgres', `LISTEN failed: ${(cause as Error).message}`, { cause })
    }
    let done = false
    return {
      close: async () => {
        if (done) return
        done = true
        this.#subs.delete(sub)
        if (this.#subs.size === 0) await this.#release()
      },
    }
  }

  async #release(): Promise<void> {
    const c = this.#client
    this.#client = null
    if (!c) return
    try {
      const client = await c
      await client.query('UNLISTEN *').catch(() => {})
      this.#releaseClient?.(false)
    } catch {
      // never connected
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#subs.clear()
    await this.#release()
  }
}

/** Opens a {@link PostgresStore} for a parsed `postgres:` DSN and checks the connection (used by `connect()`). */
export async function openStore(dsn: ParsedDsn, config: PgqrsConfig): Promise<PostgresStore> {
  if (dsn.backend !== 'postgres')
    throw new PgqrsError('CONFIG', `@pgqrs/store-postgres cannot open a ${dsn.backend} DSN`)
  const store = new PostgresStore({ ...config, connectionString: dsn.url })
  try {
    await store.ping()
  } catch (e) {
    await store.close()
    throw e
  }
  return store
}
