import type { PgqrsMigration } from '../../migration.js'

/**
 * 0003_flow_control (sqlite family): day-two queue features (issue 14): `timeout_ms` per message
 * (a handler timeout that wins over the worker's), kept in the archive; the archive keeps a
 * handler's `result` (JSON text) and the `started_at` of the delivery that settled it (epoch ms;
 * `archived_at`/`dead_at` is when it finished). Frozen text: imports nothing.
 */
export const flowControl: PgqrsMigration = {
  name: '0003_flow_control',
  statements: [
    String.raw`alter table pgqrs_messages add column timeout_ms integer
  check (timeout_ms is null or timeout_ms > 0)`,
    String.raw`alter table pgqrs_archive add column timeout_ms integer`,
    String.raw`alter table pgqrs_archive add column result text`,
    String.raw`alter table pgqrs_archive add column started_at integer`,
  ],
}
