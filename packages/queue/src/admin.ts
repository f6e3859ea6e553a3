import {
  ConfigError,
  ANONYMOUS_WORKER_PREFIX,
  ConflictError,
  type HandlerMetrics,
  InvalidStateTransitionError,
  type ListRunsOptions,
  type ListWorkersOptions,
  listAll,
  MAX_DELAY_MS,
  type PageOptions,
  NotFoundError,
  type QueueMessage,
  type QueueLimits,
  type QueueMetrics,
  QueueNotFoundError,
  type QueueRecord,
  type RunRecord,
  type SchemaStatus,
  type StepRecord,
  type Store,
  validateInt,
  WorkerActiveError,
  type WorkerHealth,
  type WorkerRecord,
  type WorkerStatus,
} from '@pgqrs/core'

/** Totals over every queue and worker. */
export interface SystemStats {
  readonly queues: number
  readonly workers: number
  readonly activeWorkers: number
  readonly pending: number
  readonly leased: number
  readonly delayed: number
  readonly archived: number
  readonly dead: number
  /** The newest applied migration. */
  readonly schemaVersion: string | null
}

/** Result of {@link Admin.verify}. */
export interface VerifyResult {
  readonly ok: boolean
  readonly migrations: string[]
  /** The installed schema against this code's migrations (null when it could not be read). */
  readonly schema: SchemaStatus | null
  readonly problems: string[]
}

/** What {@link Admin.setQueueLimits} takes: the limits to change. */
export interface QueueLimitsInput {
  readonly maxConcurrency?: number | null
  readonly concurrencyPerKey?: number | null
  readonly rateLimit?: {
    readonly max: number
    readonly perMs: number
    readonly perKey?: boolean
  } | null
}

/** Operations for operators and the CLI, over any store. */
export interface Admin {
  /** Creates or upgrades the schema; idempotent, safe from many processes at once. */
  install(): Promise<void>
  /**
   * Checks that the store answers and the schema is installed at exactly the version this code
   * expects (an older one: run install; a newer one: upgrade this code).
   */
  verify(): Promise<VerifyResult>
  /**
   * Strict create: `QueueAlreadyExistsError` when it exists. With `limits`, sets the queue's
   * concurrency limits too (see {@link Admin.setQueueLimits}).
   */
  createQueue(name: string, limits?: QueueLimitsInput): Promise<QueueRecord>
  /**
   * The queue's concurrency limits (null: none); `QueueNotFoundError` when it does not exist.
   * A store without limits support reports none.
   */
  queueLimits(name: string): Promise<QueueLimits>
  /**
   * Sets limits of a queue, enforced by the claim in the database across every worker:
   * `maxConcurrency` (messages of the queue leased at once), `concurrencyPerKey` (messages with
   * one `concurrencyKey` leased at once) and `rateLimit` (`{ max, perMs, perKey? }`: at most `max`
   * claims in any `perMs`, for the queue or per key). A field left out stays; null removes it.
   * Returns all limits; `QueueNotFoundError` when the queue does not exist, `ConfigError` when the
   * store has no limits support.
   */
  setQueueLimits(name: string, limits: QueueLimitsInput): Promise<QueueLimits>
  /** The queue, or `QueueNotFoundError`. */
  getQueue(name: string): Promise<QueueRecord>
  /** Queues by name, one page (default 100, at most 1000) after the name `after`. */
  listQueues(options?: PageOptions<string>): Promise<QueueRecord[]>
  /** Refused (`ConflictError`) while it has active messages, unless `force`. */
  deleteQueue(name: string, options?: { force?: boolean }): Promise<void>
  /** Deletes every message of the queue; returns how many. */
  purgeQueue(name: string): Promise<number>
  queueMetrics(name: string): Promise<QueueMetrics>
  /** Metrics of one page of queues by name (default 100, at most 1000). */
  allQueueMetrics(options?: PageOptions<string>): Promise<QueueMetrics[]>
  /** Totals over every queue (read page by page) and the worker registry. */
  systemStats(): Promise<SystemStats>
  /** Worker counts of one queue. */
  workerStats(queue: string, options?: { staleAfterMs?: number }): Promise<WorkerHealth>
  /** Dead messages of a queue, oldest first. */
  deadLetters(queue: string, options?: { limit?: number }): Promise<QueueMessage[]>
  /** Brings a dead or archived message back under the same id; `NotFoundError` when there is none. */
  replay(id: number): Promise<QueueMessage>
  /** Deletes archived (and with `includeDead`, dead) messages older than `olderThanMs`. */
  purgeArchived(options: {
    olderThanMs: number
    queue?: string
    includeDead?: boolean
  }): Promise<number>
  /** Workers by id, one page (default 100, at most 1000); filter by queue, or live/stopped. */
  workers(options?: ListWorkersOptions): Promise<WorkerRecord[]>
  /**
   * Deletes the rows of workers stopped more than `olderThanMs` ago (only anonymous ones with
   * `anonymousOnly`); returns how many. Anonymous rows are removed after a day without this call.
   */
  purgeStoppedWorkers(options: { olderThanMs: number; anonymousOnly?: boolean }): Promise<number>
  workerHealth(options?: { staleAfterMs?: number; queue?: string }): Promise<WorkerHealth>
  /** Suspends a worker (its loop stops leasing at its next heartbeat). */
  suspendWorker(nameOrId: string | number): Promise<WorkerRecord>
  /** Resumes a suspended worker. */
  resumeWorker(nameOrId: string | number): Promise<WorkerRecord>
  /** Interrupts a polling worker (its loop stops gracefully). */
  interruptWorker(nameOrId: string | number): Promise<WorkerRecord>
  /** Shuts a suspended worker down (status stopped). */
  shutdownWorker(nameOrId: string | number): Promise<WorkerRecord>
  /**
   * Marks workers without a heartbeat for `staleAfterMs` (default 60 s) stopped, so their names
   * can be registered again; returns their ids. Their messages need nothing: leases run out by
   * themselves. Live workers do this on their own heartbeat timer too.
   */
  stopStaleWorkers(options?: { staleAfterMs?: number }): Promise<number[]>
  /**
   * Frees the name of a worker whose process is gone (a crashed container on another host, say):
   * marks it stopped, so a new process can register the name. Refused with `WorkerActiveError`
   * while its heartbeat is newer than `staleAfterMs` (default 60 s), unless `force`. A live
   * process whose row this stops notices at its next heartbeat and stops too.
   */
  reclaimWorker(
    nameOrId: string | number,
    options?: { staleAfterMs?: number; force?: boolean },
  ): Promise<WorkerRecord>
  /** Workflow runs, newest first; `{ parentId }`: the children a run started with `ctx.startChild`. */
  runs(options?: ListRunsOptions): Promise<RunRecord[]>
  /** Steps of a run in the order they started, one page (default 100, at most 1000) after step id `after`. */
  steps(runId: number, options?: PageOptions<number>): Promise<StepRecord[]>
  /** Asks a run to stop: CANCELLING now, CANCELLED at its next step boundary or delivery. */
  cancelRun(runId: number): Promise<RunRecord>
  /** Wakes a SLEEPING or PAUSED run now instead of at its wake time. */
  resumeRun(runId: number): Promise<RunRecord>
  /**
   * A message by id, active or settled: a settled one carries what its handler returned
   * (`result`), when its last delivery began (`startedAt`) and finished (`finishedAt`, both on the
   * database clock) and its `attempts`. `NotFoundError` when there is none.
   */
  message(id: number): Promise<QueueMessage>
  /**
   * Cancels a pending or delayed message: it is deleted and never delivered; returns it as it
   * was. `ConflictError` when it is leased (running now), settled, or a workflow run's message
   * (cancel the run with `cancelRun`); `NotFoundError` when there is none. Nothing changes then.
   */
  cancelMessage(id: number): Promise<QueueMessage>
  /**
   * Makes a delayed or backing-off message visible now (its attempts are kept). `ConflictError`
   * when it is leased or settled (replay a settled one); `NotFoundError` when there is none.
   */
  retryNow(id: number): Promise<QueueMessage>
  /**
   * Handled, dead and failed counts and p50/p95 handling times of the messages of `queue` that
   * finished in the last `windowMs` (default one hour). `QueueNotFoundError` when it is missing.
   */
  handlerMetrics(queue: string, options?: { windowMs?: number }): Promise<HandlerMetrics>
}

const DEFAULT_STALE_MS = 60_000

/** Why message `id` could not be `what`: unknown, settled, leased or a run's message. */
async function notNow(store: Store, id: number, what: string): Promise<Error> {
  const m = await store.messages.get(id)
  if (!m) return new NotFoundError('message', id)
  const why =
    m.archivedAt || m.deadAt
      ? `it is ${m.deadAt ? 'dead' : 'archived'} (replay it instead)`
      : m.lease !== null && m.visibleAt.getTime() > Date.now()
        ? 'it is leased: a handler is running it now'
        : "it is a workflow run's message: use cancelRun"
  return new ConflictError('message', String(id), `Message ${id} cannot be ${what}: ${why}`)
}

/**
 * Admin operations over `store`.
 *
 * @example
 * ```ts
 * await pgqrs.admin(store).install()
 * console.log(await pgqrs.admin(store).queueMetrics('tasks'))
 * ```
 */
export function admin(store: Store): Admin {
  const setQueueLimits = async (name: string, limits: QueueLimitsInput) => {
    if (!store.queues.setLimits)
      throw new ConfigError(
        'store',
        `This store (${store.backend}) has no concurrency limits: use a store built on KyselyStore`,
      )
    const set = await store.queues.setLimits(name, limits)
    if (!set) throw new QueueNotFoundError(name)
    return set
  }
  const worker = async (nameOrId: string | number): Promise<WorkerRecord> => {
    const w =
      typeof nameOrId === 'number'
        ? await store.workers.get(nameOrId)
        : await store.workers.getByName(nameOrId)
    if (!w) throw new NotFoundError('worker', nameOrId)
    return w
  }
  const move = async (nameOrId: string | number, to: WorkerStatus) =>
    store.workers.transition((await worker(nameOrId)).id, to)
  return {
    install: () => store.migrate(),
    async verify() {
      const problems: string[] = []
      let migrations: string[] = []
      let schema: SchemaStatus | null = null
      try {
        migrations = await store.migrations()
        schema = await store.schemaStatus()
        if (schema.state === 'missing') problems.push('pgqrs is not installed: run install')
        else if (schema.state === 'older')
          problems.push(
            `the schema is older than this pgqrs (installed ${schema.installed}, expected ${schema.expected}; missing ${schema.pending.join(', ')}): run install with this version`,
          )
        else if (schema.state === 'newer')
          problems.push(
            `the schema is newer than this pgqrs (installed ${schema.installed}, this version knows up to ${schema.expected}; unknown ${schema.unknown.join(', ')}): upgrade pgqrs here`,
          )
        if (schema.state !== 'missing') await store.queues.list({ limit: 1 })
      } catch (e) {
        problems.push((e as Error).message)
      }
      return { ok: problems.length === 0, migrations, schema, problems }
    },
    async createQueue(name, limits) {
      const created = await store.queues.create(name)
      if (limits !== undefined) await setQueueLimits(name, limits)
      return created
    },
    async queueLimits(name) {
      if (!store.queues.limits)
        return { maxConcurrency: null, concurrencyPerKey: null, rateLimit: null }
      const limits = await store.queues.limits(name)
      if (!limits) throw new QueueNotFoundError(name)
      return limits
    },
    setQueueLimits,
    async getQueue(name) {
      const q = await store.queues.get(name)
      if (!q) throw new QueueNotFoundError(name)
      return q
    },
    listQueues: (options) => store.queues.list(options),
    async deleteQueue(name, options) {
      if (!(await store.queues.delete(name, options))) throw new QueueNotFoundError(name)
    },
    async purgeQueue(name) {
      if (!(await store.queues.get(name))) throw new QueueNotFoundError(name)
      return store.queues.purge(name)
    },
    async queueMetrics(name) {
      const m = await store.queues.metrics(name)
      if (!m) throw new QueueNotFoundError(name)
      return m
    },
    allQueueMetrics: (options) => store.queues.allMetrics(options),
    async systemStats() {
      const [metrics, health, migrations] = await Promise.all([
        listAll<QueueMetrics, string>(
          (page) => store.queues.allMetrics(page),
          (m) => m.name,
        ),
        store.workers.health({ staleAfterMs: DEFAULT_STALE_MS }),
        store.migrations(),
      ])
      const sum = (k: 'pending' | 'leased' | 'delayed' | 'archived' | 'dead') =>
        metrics.reduce((n, m) => n + m[k], 0)
      return {
        queues: metrics.length,
        workers: health.total,
        activeWorkers: health.ready + health.polling,
        pending: sum('pending'),
        leased: sum('leased'),
        delayed: sum('delayed'),
        archived: sum('archived'),
        dead: sum('dead'),
        schemaVersion: migrations.at(-1) ?? null,
      }
    },
    async workerStats(queue, options = {}) {
      if (!(await store.queues.get(queue))) throw new QueueNotFoundError(queue)
      return store.workers.health({ queue, staleAfterMs: options.staleAfterMs ?? DEFAULT_STALE_MS })
    },
    async deadLetters(queue, options = {}) {
      if (!(await store.queues.get(queue))) throw new QueueNotFoundError(queue)
      return store.messages.list(queue, { state: 'dead', limit: options.limit })
    },
    async replay(id) {
      validateInt('id', id, 1)
      const m = await store.messages.replay(id)
      if (m) return m
      const cur = await store.messages.get(id)
      if (cur)
        throw new ConflictError(
          'message',
          String(id),
          `Message ${id} is still active: only archived or dead messages can be replayed`,
        )
      throw new NotFoundError('message', id)
    },
    purgeArchived: (options) => store.messages.purgeArchived(options),
    workers: (options) => store.workers.list(options),
    async purgeStoppedWorkers(options) {
      if (store.workers.purgeStopped) return store.workers.purgeStopped(options)
      // A store without the shortcut: list the stopped rows page by page, delete the old ones.
      const olderThanMs = validateInt('olderThanMs', options?.olderThanMs, 0, MAX_DELAY_MS)
      const stopped = await listAll<WorkerRecord, number>(
        (page) => store.workers.list({ ...page, live: false }),
        (w) => w.id,
      )
      const cutoff = Date.now() - olderThanMs
      let n = 0
      for (const w of stopped) {
        if (options.anonymousOnly && !w.name.startsWith(ANONYMOUS_WORKER_PREFIX)) continue
        if (w.shutdownAt === null || w.shutdownAt.getTime() > cutoff) continue
        if (await store.workers.delete(w.id)) n++
      }
      return n
    },
    workerHealth: (options = {}) =>
      store.workers.health({
        staleAfterMs: options.staleAfterMs ?? DEFAULT_STALE_MS,
        queue: options.queue,
      }),
    suspendWorker: (w) => move(w, 'suspended'),
    resumeWorker: (w) => move(w, 'ready'),
    interruptWorker: (w) => move(w, 'interrupted'),
    shutdownWorker: (w) => move(w, 'stopped'),
    stopStaleWorkers: (options = {}) =>
      store.workers.markStale(options.staleAfterMs ?? DEFAULT_STALE_MS),
    async reclaimWorker(nameOrId, options = {}) {
      const staleAfterMs = validateInt('staleAfterMs', options.staleAfterMs ?? DEFAULT_STALE_MS, 1)
      const w = await worker(nameOrId)
      if (w.status === 'stopped') return w
      const age = Date.now() - w.heartbeatAt.getTime()
      if (!options.force && age < staleAfterMs) {
        throw new WorkerActiveError(
          w.name,
          w.status,
          `its heartbeat is ${Math.round(age / 1000)} s old, so it looks alive: reclaim it once the heartbeat is ${Math.round(staleAfterMs / 1000)} s old, or force`,
        )
      }
      if (w.status !== 'suspended') await store.workers.transition(w.id, 'suspended')
      return store.workers.transition(w.id, 'stopped')
    },
    runs: (options) => store.runs.list(options),
    steps: (runId, options) => store.steps.list(runId, options),
    async cancelRun(runId) {
      const r = await store.runs.transition(runId, { to: 'CANCELLING', lease: null })
      await store.messages.reschedule(r.messageId, 0)
      return r
    },
    async message(id) {
      validateInt('id', id, 1)
      const m = await store.messages.get(id)
      if (!m) throw new NotFoundError('message', id)
      return m
    },
    async cancelMessage(id) {
      validateInt('id', id, 1)
      if (!store.messages.cancel)
        throw new ConfigError('store', `the ${store.backend} store cannot cancel messages`)
      const m = await store.messages.cancel(id)
      if (m) return m
      throw await notNow(store, id, 'cancelled')
    },
    async retryNow(id) {
      validateInt('id', id, 1)
      if (await store.messages.reschedule(id, 0)) return (await store.messages.get(id))!
      throw await notNow(store, id, 'retried now')
    },
    async handlerMetrics(queue, options = {}) {
      if (!store.messages.handlerMetrics)
        throw new ConfigError('store', `the ${store.backend} store has no handler metrics`)
      const m = await store.messages.handlerMetrics(queue, options.windowMs ?? 3_600_000)
      if (!m) throw new QueueNotFoundError(queue)
      return m
    },
    async resumeRun(runId) {
      const r = await store.runs.get(runId)
      if (!r) throw new NotFoundError('run', runId)
      if (r.status !== 'SLEEPING' && r.status !== 'PAUSED') {
        throw new InvalidStateTransitionError('run', r.status, 'RUNNING', ['SLEEPING', 'PAUSED'])
      }
      await store.messages.reschedule(r.messageId, 0)
      return r
    },
  }
}
