import type { PgqrsMigration } from '../../migration.js'

/**
 * 0006_workflow_versions (sqlite family): the version of the workflow code a run was started for
 * (see the Postgres migration of the same name).
 */
export const workflowVersions: PgqrsMigration = {
  name: '0006_workflow_versions',
  statements: ['alter table pgqrs_runs add column version integer not null default 1'],
}
