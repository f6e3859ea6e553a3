import type { PgqrsMigration } from '../../migration.js'
import { baseline } from './0001-baseline.js'
import { workerInstance } from './0002-worker-instance.js'
import { flowControl } from './0003-flow-control.js'
import { durableWorkflows } from './0004-durable-workflows.js'
import { observability } from './0005-observability.js'
import { workflowVersions } from './0006-workflow-versions.js'
import { schedulesLimits } from './0007-schedules-limits.js'
import { childWorkflows } from './0008-child-workflows.js'

/** Postgres migrations, oldest first. Never edit a released one; add a new one. @internal */
export const POSTGRES_MIGRATIONS: readonly PgqrsMigration[] = [
  baseline,
  workerInstance,
  flowControl,
  durableWorkflows,
  observability,
  workflowVersions,
  schedulesLimits,
  childWorkflows,
]
