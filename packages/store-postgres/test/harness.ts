import { randomBytes } from 'node:crypto'
import type { StoreHarness } from '@pgqrs/store-conformance'
import { inject } from 'vitest'
import { PostgresStore } from '../src/index.js'

/** The test database of this run (see global-setup.ts); '' when no PostgreSQL could be had. */
export const pgUrl: string = inject('pgUrl')

/** Postgres harness: every store gets its own schema in the run's database, dropped by destroy(). */
export const postgresHarness: StoreHarness = {
  name: 'postgres',
  capabilities: {
    concurrency: 'multi-process',
    skipLocked: true,
    notifications: true,
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
    const schema = `pgqrs_t_${randomBytes(5).toString('hex')}`
    const store = new PostgresStore({
      maxConnections: 12,
      ...options.config,
      logger: false,
      schema,
      connectionString: pgUrl,
    })
    if (options.migrate !== false) await store.migrate()
    return store
  },
  connection(store) {
    return { dsn: pgUrl, config: { schema: store.config.schema, logger: false } }
  },
  kysely(store) {
    return { db: (store as PostgresStore).db, schema: store.config.schema }
  },
  async destroy(store) {
    const pg = store as PostgresStore
    await pg.pool.query(`drop schema if exists "${store.config.schema}" cascade`)
    await store.close()
  },
}
