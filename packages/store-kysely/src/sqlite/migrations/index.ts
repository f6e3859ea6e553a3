import type { PgqrsMigration } from '../../migration.js'
import { baseline } from './0001-baseline.js'
import { workerInstance } from './0002-worker-instance.js'
import { flowControl } from './0003-flow-control.js'
import { durableWorkflows } from './0004-durable-workflows.js'
import { archiveCounts } from './0005-archive-counts.js'

/** sqlite-family migrations (SQLite and Turso), oldest first. Never edit a released one. @internal */
export const SQLITE_MIGRATIONS: readonly PgqrsMigration[] = [
  baseline,
  workerInstance,
  flowControl,
  durableWorkflows,
  archiveCounts,
]
