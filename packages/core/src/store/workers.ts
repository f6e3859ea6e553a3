import type { WorkerRecord, WorkerStatus } from '../types.js'
import type { PageOptions } from './page.js'

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

/** Filter and page of {@link WorkerRepository.list}. */
export interface ListWorkersOptions extends PageOptions<number> {
  readonly queue?: string
  /** true: only workers that are not stopped; false: only stopped ones. */
  readonly live?: boolean
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
  /**
   * Workers by id, one page (default 100, at most 1000) after the id `after`; optionally only those
   * of one queue, and only live (not stopped) ones with `live: true` or stopped ones with `live: false`.
   */
  list(options?: ListWorkersOptions): Promise<WorkerRecord[]>
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
  /**
   * Optional (retention; `admin.purgeStoppedWorkers` falls back to `list` and `delete`). Deletes
   * stopped workers that stopped more than `olderThanMs` ago; with `anonymousOnly`, only the rows
   * of workers that were never given a name (see `ANONYMOUS_WORKER_PREFIX`). Returns how many.
   */
  purgeStopped?(options: { olderThanMs: number; anonymousOnly?: boolean }): Promise<number>
}
