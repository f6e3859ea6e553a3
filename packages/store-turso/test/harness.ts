import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Store } from '@pgqrs/core'
import type { StoreHarness } from '@pgqrs/store-conformance'
import { TursoStore } from '../src/index.js'

const dirs = new WeakMap<Store, string>()

/** Turso (libSQL, local file) harness: every store is a new database file in its own temp folder (never `:memory:`). */
export const tursoHarness: StoreHarness = {
  name: 'turso',
  capabilities: {
    concurrency: 'single-process',
    skipLocked: false,
    notifications: false,
    sharedAcrossProcesses: true,
  },
  shortcuts: [
    'messages.settleAndDequeue',
    'runs.end',
    'steps.record',
    'messages.cancel',
    'messages.dequeueQueues',
    'messages.handlerMetrics',
    'runs.counts',
    'events.values',
    'schedules',
    'queues.limits',
  ],
  async create(options = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'pgqrs-turso-'))
    const store = new TursoStore({
      ...options.config,
      logger: false,
      url: `file:${join(dir, 'pgqrs.db')}`,
    })
    dirs.set(store, dir)
    if (options.migrate !== false) await store.migrate()
    return store
  },
  connection(store) {
    return { dsn: `turso://${join(dirs.get(store)!, 'pgqrs.db')}`, config: { logger: false } }
  },
  kysely(store) {
    return { db: (store as TursoStore).db, schema: null }
  },
  async destroy(store) {
    await store.close()
    const dir = dirs.get(store)
    if (dir) rmSync(dir, { recursive: true, force: true })
  },
}
