// Types shared by the runner (parent process) and the measuring children.

/** The message every system carries, in every workload. */
export interface Payload {
  readonly i: number
  readonly pad: string
}

const PAD = 'x'.repeat(100)

/** `{ i, pad: 'x'.repeat(100) }` */
export function payload(i: number): Payload {
  return { i, pad: PAD }
}

export type SystemName = 'pgqrs' | 'pg-boss' | 'graphile-worker'
export type Backend = 'postgres' | 'sqlite' | 'turso'

/**
 * What is measured in one row: a system, and for pgqrs how it consumes (`loop`: its own
 * `consumer.dequeue({ batchSize })` + `archiveMany` loops; `worker`: `worker()`).
 */
export interface Subject {
  readonly system: SystemName
  /**
   * `worker-delete`: a pgqrs worker with `onSuccess: 'delete'`; `sql`: the pure-SQL ceiling (pgqrs's
   * own claim-and-settle function called in a loop over plain `pg`, no library around it).
   */
  readonly mode: 'loop' | 'worker' | 'worker-delete' | 'worker-untraced' | 'sql'
  readonly backend: Backend
  /** Shown in tables and the chart. */
  readonly label: string
}

/** Where a measurement runs: a fresh schema (Postgres) or a fresh file (SQLite, Turso). */
export interface Target {
  readonly backend: Backend
  /** Postgres connection string (also set for the sqlite family: unused there). */
  readonly url: string
  /** Postgres schema of this measurement, created by the system's install and dropped after. */
  readonly schema: string
  /** Database file of the sqlite family, else null. */
  readonly file: string | null
  readonly queue: string
}

export type WorkloadId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'rss'

export type Params = Readonly<Record<string, number | string>>

/** One measurement as a child reports it. */
export interface Measurement {
  /** The row's headline number (msg/s, runs/s, or p50 ms for latency). */
  readonly value: number
  /** Further numbers of the row (p99, backlog, steps/s, …), by name. */
  readonly extra: Readonly<Record<string, number>>
  /** Something the reader must know (a time cap was hit, …). */
  readonly note?: string
}

/** What the parent sends a child. */
export interface ChildTask {
  readonly phase: 'prepare' | 'measure'
  readonly workload: WorkloadId
  readonly subject: Subject
  readonly target: Target
  readonly params: Params
}

/** What a child sends back. */
export type ChildReply =
  | { readonly ok: true; readonly measurement: Measurement | null; readonly maxRssMb: number }
  | { readonly ok: false; readonly error: string }
