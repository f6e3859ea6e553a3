import type { WorkerRecord, WorkerStatus } from '../types.js'

/** Registration data of a worker. */
export interface RegisterWorker {
  readonly name: string
  readonly queue?: string | null
  readonly hostname: string
  readonly pid: number
  /** Random id of this process instance (see `WorkerRecord.instance`). */
  readonly instance?: string | null
  /**
   * Also take over a live (not stopped) registration of the name whose heartbeat is older than
   * this many ms, e.g. the row of a crashed process that is being restarted.
   */
  readonly takeOverAfterMs?: number
}

/** Worker counts by status, computed in one query. */
export interface WorkerHealth {
  readonly total: number
  readonly ready: number
  readonly polling: number
  readonly suspended: number
  readonly interrupted: number
  readonly stopped: number
  /** Not stopped, and no heartbeat within `staleAfterMs`. */
  readonly stale: number
}

/** The worker registry. */
export interface WorkerRepository {
  /**
   * Registers `name` with status `ready`. A stopped worker's name is reused (same id); a live one
   * throws `WorkerActiveError`. One statement, safe under concurrency.
   */
  register(worker: RegisterWorker): Promise<WorkerRecord>
  get(id: number): Promise<WorkerRecord | null>
  getByName(name: string): Promise<WorkerRecord | null>
  /** Workers, optionally of one queue, by id. */
  list(options?: { queue?: string }): Promise<WorkerRecord[]>
  /** Records a heartbeat (database clock); false when the worker does not exist. */
  heartbeat(id: number): Promise<boolean>
  /**
   * Moves the worker to `to` when the transition table allows it from its current status, in one
   * conditional statement; otherwise throws `InvalidStateTransitionError {from, to}`.
   */
  transition(id: number, to: WorkerStatus): Promise<WorkerRecord>
  /** Marks workers stopped whose heartbeat is older than `staleAfterMs`; returns their ids. */
  markStale(staleAfterMs: number): Promise<number[]>
  /** Counts by status; stale = not stopped with no heartbeat within `staleAfterMs`. */
  health(options: { staleAfterMs: number; queue?: string }): Promise<WorkerHealth>
  /** Deletes a stopped worker; false when it does not exist or is not stopped. */
  delete(id: number): Promise<boolean>
}
