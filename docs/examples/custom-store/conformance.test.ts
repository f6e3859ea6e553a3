// A store written from scratch, with the required methods only (TracedStore), over a store built on
// KyselyStore (MySqliteStore): it passes the same conformance suite as the built-in stores, crash
// tests included, under its own name.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Store } from '@pgqrs/core'
import { describeStoreConformance, type StoreHarness } from '@pgqrs/store-conformance'
import { MySqliteStore } from './my-sqlite-store.ts'
import { TracedStore } from './traced-store.ts'

const dirs = new WeakMap<Store, string>()
const file = (store: Store) => join(dirs.get(store)!, 'pgqrs.db')
const inner = (store: Store) => (store as TracedStore).inner as MySqliteStore

const tracedHarness: StoreHarness = {
  name: 'traced',
  // declared up front: the suite picks its capability-gated parts from these alone
  capabilities: {
    concurrency: 'single-process',
    skipLocked: false,
    notifications: false,
    sharedAcrossProcesses: true, // other processes may open the file: the crash tests run
  },
  // a fresh, isolated store per area of the suite: its own file in its own temp folder
  async create(options = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'traced-'))
    const store = new TracedStore(
      new MySqliteStore({ ...options.config, logger: false, path: join(dir, 'pgqrs.db') }),
    )
    dirs.set(store, dir)
    if (options.migrate !== false) await store.migrate()
    return store
  },
  // how a child process opens the same database with connect(): the built-in sqlite store
  connection: (store) => ({ dsn: `sqlite://${file(store)}`, config: { logger: false } }),
  // a Kysely instance on the same database, for the tests of writes in your own transaction
  kysely: (store) => ({ db: inner(store).db, schema: null }),
  async destroy(store) {
    await store.close()
    rmSync(dirs.get(store)!, { recursive: true, force: true })
  },
}

describeStoreConformance(tracedHarness)
