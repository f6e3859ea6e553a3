import {
  ConfigError,
  NotFoundError,
  type PageOptions,
  type ScheduleCatchUp,
  type ScheduleOverlap,
  type ScheduleRecord,
  type ScheduleRepository,
  type Store,
  ValidationError,
  validateName,
  validatePayload,
} from '@pgqrs/core'
import { Cron } from 'croner'

/** Options shared by every {@link schedule}. */
interface ScheduleBase {
  /** Unique name of the schedule (1-128 characters from `[A-Za-z0-9_.:-]`); defining it again redefines it. */
  readonly name: string
  /**
   * Cron pattern: five fields (`min hour day month weekday`) or six with seconds first
   * (`*\/1 * * * * *`). Parsed by croner (ranges, steps, `L`, `#`, names, `@daily`…).
   */
  readonly cron: string
  /** IANA time zone the pattern is read in (croner handles DST). Default UTC. */
  readonly timezone?: string
  /**
   * While the previous tick's message (or workflow run message) is still active: `'allow'`
   * enqueues anyway (default), `'skip'` skips the tick.
   */
  readonly overlap?: ScheduleOverlap
  /**
   * Ticks found missed (more than the scheduler's grace past due, e.g. while every worker was
   * down): `'none'` drops them (default), `'latest'` fires the latest one, `'all'` fires each, at
   * most the {@link MAX_CATCH_UP} latest.
   */
  readonly catchUp?: ScheduleCatchUp
}

/** A schedule whose ticks enqueue `payload` to `queue` (dedupe key `schedule:<name>:<tick ISO>`). */
export interface QueueScheduleOptions extends ScheduleBase {
  readonly queue: string
  /** The message payload (JSON, validated like any payload). Default `{}`. */
  readonly payload?: unknown
}

/** A schedule whose ticks start a run of `workflow` (idempotency key `schedule:<name>:<tick ISO>`). */
export interface WorkflowScheduleOptions extends ScheduleBase {
  readonly workflow: string
  /** The run's input (JSON). Default `{}`. */
  readonly input?: unknown
}

/** Options of {@link schedule}: a queue schedule or a workflow schedule. */
export type ScheduleOptions = QueueScheduleOptions | WorkflowScheduleOptions

/** At most this many missed ticks are fired per schedule by `catchUp: 'all'` (the latest ones). */
export const MAX_CATCH_UP = 100

const OVERLAPS: readonly ScheduleOverlap[] = ['allow', 'skip']
const CATCH_UPS: readonly ScheduleCatchUp[] = ['none', 'latest', 'all']

/** The croner job of a pattern (parsing only: it schedules nothing). @internal */
export function cronOf(pattern: string, timezone: string | null): Cron {
  return new Cron(pattern, { timezone: timezone ?? 'UTC', mode: '5-or-6-parts' })
}

/** The first tick of `pattern` strictly after `after`; null when it has none. @internal */
export function nextTick(pattern: string, timezone: string | null, after: Date): Date | null {
  return cronOf(pattern, timezone).nextRun(after)
}

function checkCron(pattern: unknown, timezone: string | null): string {
  if (typeof pattern !== 'string' || pattern.trim() === '' || pattern.length > 256)
    throw new ValidationError(
      'cron',
      pattern,
      'a cron pattern of 5 fields, or 6 with seconds first',
      `Invalid cron pattern ${JSON.stringify(pattern)}: use 5 fields (min hour day month weekday) or 6 with seconds first`,
    )
  let next: Date | null
  try {
    next = nextTick(pattern, timezone, new Date())
  } catch (e) {
    throw new ValidationError(
      'cron',
      pattern,
      'a cron pattern of 5 fields, or 6 with seconds first',
      `Invalid cron pattern ${JSON.stringify(pattern)}: ${(e as Error).message}; use 5 fields (min hour day month weekday) or 6 with seconds first`,
    )
  }
  if (next === null)
    throw new ValidationError(
      'cron',
      pattern,
      'a pattern with a future tick',
      `Cron pattern ${JSON.stringify(pattern)} never fires again: use a pattern with a future tick`,
    )
  return pattern
}

function checkTimezone(timezone: unknown): string | null {
  if (timezone === undefined || timezone === null) return null
  try {
    if (typeof timezone !== 'string' || timezone === '') throw new RangeError('not a string')
    new Intl.DateTimeFormat('en-US', { timeZone: timezone })
    return timezone
  } catch {
    throw new ValidationError(
      'timezone',
      timezone,
      'an IANA time zone name',
      `Invalid time zone ${JSON.stringify(timezone)}: use an IANA name such as "Europe/Paris" or "UTC"`,
    )
  }
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[], d: T): T {
  if (value === undefined) return d
  if (!allowed.includes(value as T))
    throw new ValidationError(
      field,
      value,
      allowed.map((a) => `'${a}'`).join(', '),
      `Invalid ${field} ${JSON.stringify(value)}: use ${allowed.map((a) => `'${a}'`).join(', ')}`,
    )
  return value as T
}

/** The store's schedule repository, or a `ConfigError` saying the store has none. @internal */
export function scheduleRepo(store: Store): ScheduleRepository {
  if (!store.schedules)
    throw new ConfigError(
      'store',
      `This store (${store.backend}) has no schedules repository: use a store built on KyselyStore, or implement store.schedules`,
    )
  return store.schedules
}

/**
 * Creates or redefines a cron schedule, stored in the database. Workers fire its ticks (each
 * worker runs a scheduler unless started with `scheduler: false`); each tick enqueues exactly one
 * message, or starts one workflow run, however many processes run. Defining it again with the same
 * pattern and time zone keeps its next tick (ticks missed while nothing ran follow `catchUp`).
 *
 * @example
 * ```ts
 * await pgqrs.schedule(store, { name: 'nightly-report', cron: '0 3 * * *', timezone: 'Europe/Paris',
 *   queue: 'reports', payload: { kind: 'nightly' }, overlap: 'skip', catchUp: 'latest' })
 * await pgqrs.schedule(store, { name: 'cleanup', cron: '*\/30 * * * * *', workflow: 'cleanup', input: {} })
 * ```
 */
export async function schedule(store: Store, options: ScheduleOptions): Promise<ScheduleRecord> {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('options', 'schedule options must be an object')
  const repo = scheduleRepo(store)
  const name = validateName('schedule', options.name)
  const timezone = checkTimezone(options.timezone)
  const cron = checkCron(options.cron, timezone)
  const overlap = oneOf('overlap', options.overlap, OVERLAPS, 'allow')
  const catchUp = oneOf('catchUp', options.catchUp, CATCH_UPS, 'none')
  const isWorkflow = 'workflow' in options && options.workflow !== undefined
  if (isWorkflow === ('queue' in options && options.queue !== undefined))
    throw new ConfigError(
      'queue',
      'a schedule takes either `queue` (and `payload`) or `workflow` (and `input`)',
    )
  let target: string
  let payload: unknown
  if (isWorkflow) {
    const o = options as WorkflowScheduleOptions
    target = validateName('workflow', o.workflow)
    payload = o.input === undefined ? {} : o.input
    await store.workflows.ensure(target)
  } else {
    const o = options as QueueScheduleOptions
    target = validateName('queue', o.queue)
    payload = o.payload === undefined ? {} : o.payload
    await store.queue(target)
  }
  payload = JSON.parse(validatePayload(payload, store.config.validation))
  return repo.upsert({
    name,
    cron,
    timezone,
    kind: isWorkflow ? 'workflow' : 'queue',
    target,
    payload,
    overlap,
    catchUp,
    nextRunAt: nextTick(cron, timezone, new Date()) as Date,
  })
}

/** Managing stored schedules: what {@link schedules} returns. */
export interface Schedules {
  /** Schedules by name, one page (default 100, at most 1000) after the name `after`. */
  list(options?: PageOptions<string>): Promise<ScheduleRecord[]>
  /** The schedule, or `NotFoundError`. */
  get(name: string): Promise<ScheduleRecord>
  /** Stops its ticks until {@link Schedules.resume}; `NotFoundError` when it does not exist. */
  pause(name: string): Promise<ScheduleRecord>
  /**
   * Starts its ticks again from the next one after now (ticks that fell while it was paused are
   * not fired); `NotFoundError` when it does not exist.
   */
  resume(name: string): Promise<ScheduleRecord>
  /** Deletes it (messages it enqueued stay); false when it did not exist. */
  remove(name: string): Promise<boolean>
}

/**
 * The schedules of a store: list, pause, resume, remove (`pgqrs schedules …` on the command line).
 *
 * @example
 * ```ts
 * await pgqrs.schedules(store).pause('nightly-report')
 * ```
 */
export function schedules(store: Store): Schedules {
  const repo = () => scheduleRepo(store)
  const found = (name: string, s: ScheduleRecord | null): ScheduleRecord => {
    if (!s) throw new NotFoundError('schedule', name)
    return s
  }
  return {
    list: (options) => repo().list(options),
    get: async (name) => found(name, await repo().get(name)),
    pause: async (name) => found(name, await repo().setPaused(name, true)),
    async resume(name) {
      const s = found(name, await repo().get(name))
      const next = nextTick(s.cron, s.timezone, new Date()) ?? s.nextRunAt
      return found(name, await repo().setPaused(name, false, next))
    },
    remove: (name) => repo().delete(name),
  }
}
