import type { PageOptions } from './page.js'

/** What a schedule does while its previous tick's message is still active: enqueue anyway, or skip the tick. */
export type ScheduleOverlap = 'allow' | 'skip'

/**
 * What a scheduler does with ticks it finds missed (more than its grace past due, say after every
 * process was down): `none` drops them, `latest` fires the latest one only, `all` fires each (at
 * most the 100 latest).
 */
export type ScheduleCatchUp = 'none' | 'latest' | 'all'

/** What a tick starts: a message on a queue, or a run of a workflow. */
export type ScheduleKind = 'queue' | 'workflow'

/** A cron schedule as stored. */
export interface ScheduleRecord {
  readonly id: number
  readonly name: string
  /** The cron pattern: five fields, or six with seconds first. */
  readonly cron: string
  /** IANA time zone the pattern is read in; null: UTC. */
  readonly timezone: string | null
  readonly kind: ScheduleKind
  /** The queue name (`kind: 'queue'`) or workflow name (`kind: 'workflow'`). */
  readonly target: string
  /** The message payload, or the workflow input; undefined when none was given. */
  readonly payload: unknown
  readonly overlap: ScheduleOverlap
  readonly catchUp: ScheduleCatchUp
  /** The next tick to fire. */
  readonly nextRunAt: Date
  /** Grows on every change (a fire, a redefinition, pause, resume): the compare-and-set token. */
  readonly revision: number
  /** When it was paused; null while it runs. */
  readonly pausedAt: Date | null
  /** The last tick fired (its scheduled time); null before the first. */
  readonly lastTickAt: Date | null
  /** The message the last fired tick enqueued (a workflow run's message); null when none. */
  readonly lastMessageId: number | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** A schedule definition to store, validated. */
export interface ScheduleInput {
  readonly name: string
  readonly cron: string
  readonly timezone: string | null
  readonly kind: ScheduleKind
  readonly target: string
  /** JSON value; undefined stores none. */
  readonly payload: unknown
  readonly overlap: ScheduleOverlap
  readonly catchUp: ScheduleCatchUp
  /** The first tick: used when the schedule is new, or when its cron or time zone changed. */
  readonly nextRunAt: Date
}

/** What {@link ScheduleRepository.due} reads. */
export interface DueSchedules {
  /** The store's "now" (database clock on Postgres); null when no schedule runs. */
  readonly now: Date | null
  /** Running schedules whose `nextRunAt` is at or before `now`, earliest first. */
  readonly due: readonly ScheduleRecord[]
  /** The earliest `nextRunAt` after `now` among those read; null when none. */
  readonly nextRunAt: Date | null
}

/**
 * Cron schedules. Optional on a store (a store without it cannot schedule; the scheduler then does
 * nothing). Ticks are fired by schedulers in the queue layer: `due` once per poll, then per due
 * schedule a transaction that `claim`s the tick (compare-and-set on `revision`), enqueues, and
 * `recordMessage`s.
 */
export interface ScheduleRepository {
  /**
   * Creates the schedule, or redefines the one of that name: `nextRunAt` is kept unless the cron
   * pattern or time zone changed (so defining it again at every start-up keeps its missed ticks),
   * and a paused schedule stays paused. One statement.
   */
  upsert(input: ScheduleInput): Promise<ScheduleRecord>
  /** The schedule, or null. */
  get(name: string): Promise<ScheduleRecord | null>
  /** Schedules by name, one page (default 100, at most 1000) after the name `after`. */
  list(options?: PageOptions<string>): Promise<ScheduleRecord[]>
  /**
   * Pauses (ticks stop) or resumes the schedule; resuming sets `nextRunAt` (ticks missed while
   * paused are not fired). Null when it does not exist.
   */
  setPaused(name: string, paused: boolean, nextRunAt?: Date): Promise<ScheduleRecord | null>
  /** Deletes the schedule; false when it did not exist. Messages it enqueued stay. */
  delete(name: string): Promise<boolean>
  /** One statement: the running schedules due now, and when the next one is due. */
  due(limit: number): Promise<DueSchedules>
  /**
   * Compare-and-set: when the schedule still has `revision` and runs, sets `nextRunAt`, the last
   * tick (unless null) and `revision + 1`, and returns true; false (nothing changes) when another scheduler
   * fired it first or it was changed, paused or removed.
   */
  claim(name: string, revision: number, nextRunAt: Date, lastTickAt: Date | null): Promise<boolean>
  /** Records the message the last tick enqueued (for `overlap: 'skip'`). */
  recordMessage(name: string, messageId: number): Promise<void>
}
