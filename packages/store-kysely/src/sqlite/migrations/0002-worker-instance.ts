import type { PgqrsMigration } from '../../migration.js'

/**
 * 0002_worker_instance (sqlite family): each worker row records the random id of the process
 * instance that registered it (see the Postgres migration of the same name).
 */
export const workerInstance: PgqrsMigration = {
  name: '0002_worker_instance',
  statements: ['alter table pgqrs_workers add column instance text'],
}
