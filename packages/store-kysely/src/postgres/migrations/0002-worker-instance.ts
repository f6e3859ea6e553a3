import type { PgqrsMigration } from '../../migration.js'

/**
 * 0002_worker_instance (Postgres): each worker row records the random id of the process instance
 * that registered it, so that a process restarted with the same host name and pid (a container's
 * PID 1) tells its own crashed predecessor from a live twin and takes the name over.
 */
export const workerInstance: PgqrsMigration = {
  name: '0002_worker_instance',
  statements: ['alter table {{schema}}.pgqrs_workers add column instance text'],
}
