// The custom store passes the same conformance suite as the built-in stores.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Store } from '@pgqrs/core'
import { describeStoreConformance, type StoreHarness } from '@pgqrs/store-conformance'
import { MySqliteStore } from './my-sqlite-store.ts'

const dirs = new WeakMap<Store, string>()
const file = (store: Store) => join(dirs.get(store)!, 'pgqrs.db')

const mySqliteHarness: StoreHarness = {
  name: 'my-sqlite',
  // declared up front: suites that need a capability are skipped at collection time
  capabilities: { concurrency: 'single-process', skipLocked: false, notifications: false },
  // a fresh, isolated store per area of the suite: its own file in its own temp folder
  async create(options = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'my-sqlite-'))
    const store = new MySqliteStore({
      ...options.config,
      logger: false,
      path: join(dir, 'pgqrs.db'),
    })
    dirs.set(store, dir)
    if (options.migrate !== false) await store.migrate()
    return store
  },
  // how a child process opens the same database with connect(): the built-in sqlite store
  connection: (store) => ({ dsn: `sqlite://${file(store)}`, config: { logger: false } }),
  async destroy(store) {
    await store.close()
    rmSync(dirs.get(store)!, { recursive: true, force: true })
  },
}

describeStoreConformance(mySqliteHarness)
