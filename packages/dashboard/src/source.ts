import {
  type EventRecord,
  type ListMessagesOptions,
  MAX_PAGE_LIMIT,
  type QueueMessage,
  type QueueMetrics,
  type QueueRecord,
  type RunRecord,
  type RunStatus,
  type RunValue,
  type StepRecord,
  type Store,
  type WorkerRecord,
  type WorkflowRecord,
} from '@pgqrs/core'
import { admin } from '@pgqrs/queue'

/** A message state the queue page filters by. */
export type MessageListState = NonNullable<ListMessagesOptions['state']>

/** One delivery of a message, for its error history (see {@link DashboardSource.messageAttempts}). */
export interface MessageAttempt {
  readonly attempt: number
  readonly startedAt: Date
  readonly endedAt: Date | null
  readonly outcome: 'running' | 'archived' | 'retried' | 'dead' | 'released' | 'lost'
  readonly error: string | null
}

/** Exact run counts by status (see {@link DashboardSource.runStatusCounts}). */
export type RunStatusCounts = Readonly<Partial<Record<RunStatus, number>>>

/**
 * Everything the dashboard reads and does, as one narrow interface. Every list takes a limit and
 * every page view makes a fixed number of calls (never one per row). {@link storeSource} builds it
 * on today's `admin(store)` and store repositories; optional members are capabilities that the
 * store layer does not have yet: the pages show them only when they are present.
 */
export interface DashboardSource {
  /** The store's backend name (`postgres`, `sqlite`, `turso`, …): shown in the header. */
  readonly backend: string
  /**
   * Counts of the queues (the first 1000 by name): `admin.allQueueMetrics()`, which counts the
   * archive on its indexes; the dashboard calls it only from its sampler, never per page view.
   */
  queueMetrics(): Promise<QueueMetrics[]>
  /** The queues (names and ids; the first 1000 by name), for the worker table. */
  queues(): Promise<QueueRecord[]>
  /** Registered workers, live ones first, at most `limit`. */
  workers(options: { limit: number }): Promise<WorkerRecord[]>
  /** One worker, or null. */
  worker(id: number): Promise<WorkerRecord | null>
  /** Messages of `queue` in `state`, at most `limit`. */
  messages(
    queue: string,
    options: { state: MessageListState; limit: number },
  ): Promise<QueueMessage[]>
  /** One message (active, archived or dead), or null. */
  message(id: number): Promise<QueueMessage | null>
  /** The workflow run a message carries, or null. */
  messageRun(messageId: number): Promise<RunRecord | null>
  /** Every delivery of a message with its outcome and error, oldest first (not in the store yet). */
  messageAttempts?(id: number, options: { limit: number }): Promise<MessageAttempt[]>
  /** Workflow definitions (the first 1000 by name). */
  workflows(): Promise<WorkflowRecord[]>
  /** Runs, newest first, at most `limit`. */
  runs(options: { workflow?: string; status?: RunStatus; limit: number }): Promise<RunRecord[]>
  /** Exact run counts by status, in one bounded query (stores with `runs.counts`). */
  runStatusCounts?(): Promise<RunStatusCounts>
  /** One run, or null. */
  run(id: number): Promise<RunRecord | null>
  /** Steps of a run in the order they started, at most `limit`. */
  steps(runId: number, options: { limit: number }): Promise<StepRecord[]>
  /** Events sent to a run, oldest first, at most `limit`. */
  runEvents?(runId: number, options: { limit: number }): Promise<EventRecord[]>
  /** Values a run published (`ctx.setEvent`), by key, at most `limit`. */
  runValues?(runId: number, options: { limit: number }): Promise<RunValue[]>
  /**
   * The child runs a run started (`ctx.startChild`), newest first, at most `limit`, in one bounded
   * read (`store.runs.list({ parentId, limit })`); without it the run page has no children table.
   */
  runChildren?(runId: number, options: { limit: number }): Promise<RunRecord[]>

  /** Brings a dead or archived message back (same id, attempts reset). */
  replayMessage(id: number): Promise<void>
  /**
   * Cancels a pending or delayed message nobody leases: it is deleted and never delivered. False
   * when it is leased, settled, a run's message or gone (stores with `messages.cancel`).
   */
  cancelMessage?(id: number): Promise<boolean>
  /** Deletes archived messages of `queue` older than `olderThanMs`; returns how many. */
  purgeArchived(options: { queue: string; olderThanMs: number }): Promise<number>
  /** Asks a run to stop: CANCELLING, then CANCELLED at its next step boundary or delivery. */
  cancelRun(id: number): Promise<void>
  /** Wakes a SLEEPING or PAUSED run now. */
  resumeRun(id: number): Promise<void>
  /** Suspends a worker (from ready, polling or interrupted): it stops leasing at its next poll. */
  suspendWorker(id: number): Promise<void>
  /** Resumes a suspended worker. */
  resumeWorker(id: number): Promise<void>
  /** Interrupts a polling worker: it finishes its poll and stops. */
  interruptWorker(id: number): Promise<void>
  /** Shuts a suspended worker down (stopped). */
  shutdownWorker(id: number): Promise<void>
}

/** Live statuses sort before stopped ones in the worker table. */
const LIVE_FIRST = (a: WorkerRecord, b: WorkerRecord) =>
  Number(a.status === 'stopped') - Number(b.status === 'stopped') ||
  b.heartbeatAt.getTime() - a.heartbeatAt.getTime()

/** The store's run counts summed by status (one statement), when it can count them. */
function statusCounts(store: Store): DashboardSource['runStatusCounts'] {
  const counts = store.runs.counts?.bind(store.runs)
  if (!counts) return undefined
  return async () => {
    const out: Partial<Record<RunStatus, number>> = {}
    for (const c of await counts({ limit: 10_000 })) out[c.status] = (out[c.status] ?? 0) + c.count
    return out
  }
}

/**
 * A {@link DashboardSource} on today's `admin(store)` and store repositories; every read is one
 * bounded page of the store's paged lists (a run's children are `runs.list({ parentId, limit })`).
 * Members the store's optional methods back (message
 * cancel, run counts, published values) are present only when the store has those methods; the
 * store keeps no per-attempt history, so `messageAttempts` is absent.
 *
 * @example
 * ```ts
 * const dashboard = createDashboard({ source: storeSource(store) })
 * ```
 */
export function storeSource(store: Store): DashboardSource {
  const a = admin(store)
  const runStatusCounts = statusCounts(store)
  return {
    backend: store.backend,
    queueMetrics: () => a.allQueueMetrics({ limit: MAX_PAGE_LIMIT }),
    queues: () => store.queues.list({ limit: MAX_PAGE_LIMIT }),
    async workers({ limit }) {
      // live ones first: a page of live workers, topped up with stopped ones (two bounded reads)
      const page = Math.min(limit, MAX_PAGE_LIMIT)
      const live = await store.workers.list({ live: true, limit: page })
      const stopped =
        live.length < page ? await store.workers.list({ live: false, limit: page }) : []
      return [...live, ...stopped].sort(LIVE_FIRST).slice(0, limit)
    },
    worker: (id) => store.workers.get(id),
    messages: (queue, { state, limit }) => store.messages.list(queue, { state, limit }),
    message: (id) => store.messages.get(id),
    messageRun: (messageId) => store.runs.getByMessage(messageId),
    workflows: () => store.workflows.list({ limit: MAX_PAGE_LIMIT }),
    ...(runStatusCounts ? { runStatusCounts } : {}),
    runs: ({ workflow, status, limit }) =>
      store.runs.list({
        limit,
        ...(workflow ? { workflow } : {}),
        ...(status ? { status } : {}),
      }),
    run: (id) => store.runs.get(id),
    steps: (runId, { limit }) =>
      store.steps.list(runId, { limit: Math.min(limit, MAX_PAGE_LIMIT) }),
    runEvents: (runId, { limit }) => store.events.list(runId, { limit }),
    runChildren: (runId, { limit }) =>
      store.runs.list({ parentId: runId, limit: Math.min(limit, MAX_PAGE_LIMIT) }),
    ...(store.events.values
      ? {
          runValues: (runId: number, { limit }: { limit: number }) =>
            store.events.values!(runId, { limit: Math.min(limit, MAX_PAGE_LIMIT) }),
        }
      : {}),
    ...(store.messages.cancel
      ? {
          async cancelMessage(id: number) {
            // false (not an error) when it is leased, settled or gone: the page says so
            return (await store.messages.cancel!(id)) !== null
          },
        }
      : {}),
    async replayMessage(id) {
      await a.replay(id)
    },
    purgeArchived: ({ queue, olderThanMs }) => a.purgeArchived({ queue, olderThanMs }),
    async cancelRun(id) {
      await a.cancelRun(id)
    },
    async resumeRun(id) {
      await a.resumeRun(id)
    },
    async suspendWorker(id) {
      await a.suspendWorker(id)
    },
    async resumeWorker(id) {
      await a.resumeWorker(id)
    },
    async interruptWorker(id) {
      await a.interruptWorker(id)
    },
    async shutdownWorker(id) {
      await a.shutdownWorker(id)
    },
  }
}
