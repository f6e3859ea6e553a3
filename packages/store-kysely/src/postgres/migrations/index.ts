import type { PgqrsMigration } from '../../migration.js'
import { baseline } from './0001-baseline.js'
import { workerInstance } from './0002-worker-instance.js'
import { flowControl } from './0003-flow-control.js'
import { durableWorkflows } from './0004-durable-workflows.js'
import { archiveCounts } from './0005-archive-counts.js'

/** Postgres migrations, oldest first. Never edit a released one; add a new one. @internal */
export const POSTGRES_MIGRATIONS: readonly PgqrsMigration[] = [
  baseline,
  workerInstance,
  flowControl,
  durableWorkflows,
  archiveCounts,
]
