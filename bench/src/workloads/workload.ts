import type { BenchOptions } from '../options.ts'
import type { Backend, Measurement, Params, Subject, Target, WorkloadId } from '../types.ts'

/** One row of a workload's table: the same parameters for every subject in it. */
export interface Row {
  /** Unique within the workload. */
  readonly key: string
  /** First cells of the row, by column. */
  readonly cells: Readonly<Record<string, string>>
  readonly params: Params
  /** Measured in turn (rotated each repetition). */
  readonly subjects: readonly Subject[]
  /** The measuring child is killed after this long. */
  readonly timeoutMs: number
  /** Extra Node flags of the measuring child. */
  readonly execArgv?: readonly string[]
}

/** What the prepare and measure phases get in the child. */
export interface Context {
  readonly subject: Subject
  readonly target: Target
  readonly params: Params
}

/** The headline metric of a workload's table. */
export interface Metric {
  readonly name: string
  readonly unit: string
  readonly higherIsBetter: boolean
}

/** A workload: its rows (parent), and its prepare and measure phases (each in its own child). */
export interface Workload {
  readonly id: WorkloadId
  readonly title: string
  /** How it is measured, for the report (markdown). */
  readonly method: string
  /** Row columns before the system column. */
  readonly columns: readonly string[]
  readonly metric: Metric
  /** Further numbers shown per row (keys of `Measurement.extra`), with their headers. */
  readonly extras: readonly { key: string; header: string; digits?: number }[]
  /** Whether rows compare pgqrs with peers (ratio column). */
  readonly peers: boolean
  rows(o: BenchOptions): Row[]
  /** Install and fill (its time and memory are not measured). */
  prepare(ctx: Context): Promise<void>
  measure(ctx: Context): Promise<Measurement>
}

function subject(
  system: Subject['system'],
  mode: Subject['mode'],
  backend: Backend,
  label: string,
): Subject {
  return Object.freeze({ system, mode, backend, label })
}

export const SUBJECTS = {
  pgqrsLoop: subject('pgqrs', 'loop', 'postgres', 'pgqrs (loop)'),
  pgqrsWorker: subject('pgqrs', 'worker', 'postgres', 'pgqrs (worker)'),
  pgqrsWorkerDelete: subject('pgqrs', 'worker-delete', 'postgres', 'pgqrs (worker, delete)'),
  pgqrsWorkerUntraced: subject(
    'pgqrs',
    'worker-untraced',
    'postgres',
    'pgqrs (worker, telemetry off)',
  ),
  pgqrsSql: subject('pgqrs', 'sql', 'postgres', 'pure SQL ceiling'),
  pgBoss: subject('pg-boss', 'worker', 'postgres', 'pg-boss'),
  graphile: subject('graphile-worker', 'worker', 'postgres', 'graphile-worker'),
  embedded: (backend: Backend, mode: Subject['mode']) =>
    subject('pgqrs', mode, backend, `pgqrs ${backend} (${mode})`),
}

export const num = (p: Params, key: string): number => {
  const v = p[key]
  if (typeof v !== 'number') throw new Error(`parameter ${key} missing`)
  return v
}
