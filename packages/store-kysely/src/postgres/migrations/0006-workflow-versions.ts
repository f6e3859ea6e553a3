import type { PgqrsMigration } from '../../migration.js'

/**
 * 0006_workflow_versions (Postgres): the version of the workflow code a run was started for
 * (`defineWorkflow({ version })`, default 1). Runs of version N > 1 live on the queue
 * `<workflow>:v<N>`, so that only workers that register that version claim them.
 */
export const workflowVersions: PgqrsMigration = {
  name: '0006_workflow_versions',
  statements: [
    String.raw`alter table {{schema}}.pgqrs_runs add column version integer not null default 1`,
  ],
}
