// A store written from scratch: it implements the `Store` interface of @pgqrs/core with the
// required methods only (no `settleAndDequeue`, `runs.end`, `steps.record` or `writeCount`: the
// queue and workflow layers fall back to the required methods), and counts every call before
// handing it to another store. The same shape fits a store over a database pgqrs has no SQL for.
import type {
  EventRepository,
  MessageRepository,
  QueueRecord,
  QueueRepository,
  RunRepository,
  SchemaStatus,
  StepRepository,
  Store,
  StoreCapabilities,
  StoreRepositories,
  StoreTransaction,
  Subscription,
  WorkerRepository,
  WorkflowRepository,
} from '@pgqrs/core'
import { type Consumer, createConsumer, createProducer, type Producer } from '@pgqrs/queue'

/** Calls per operation (`messages.dequeue` → 12), shared by a store and its transactions. */
export type CallCounts = Map<string, number>

/** `inner`'s `methods`, each counted in `calls` as `area.method` before it is called. */
function counted<R extends object>(
  inner: R,
  area: string,
  methods: readonly (keyof R & string)[],
  calls: CallCounts,
): R {
  const out: Record<string, unknown> = {}
  for (const name of methods) {
    const fn = inner[name] as (...args: unknown[]) => unknown
    out[name] = (...args: unknown[]) => {
      const key = `${area}.${name}`
      calls.set(key, (calls.get(key) ?? 0) + 1)
      return fn.apply(inner, args)
    }
  }
  return out as R
}

/** The required methods of each repository: what a store must implement. */
function repositories(inner: StoreRepositories, calls: CallCounts): StoreRepositories {
  return {
    queues: counted<QueueRepository>(
      inner.queues,
      'queues',
      ['create', 'ensure', 'get', 'list', 'delete', 'purge', 'metrics', 'allMetrics'],
      calls,
    ),
    messages: counted<MessageRepository>(
      inner.messages,
      'messages',
      [
        'enqueue',
        'dequeue',
        'archive',
        'delete',
        'extendLease',
        'release',
        'fail',
        'reschedule',
        'get',
        'list',
        'replay',
        'purgeArchived',
      ],
      calls,
    ),
    workers: counted<WorkerRepository>(
      inner.workers,
      'workers',
      [
        'register',
        'get',
        'getByName',
        'list',
        'heartbeat',
        'transition',
        'markStale',
        'health',
        'delete',
      ],
      calls,
    ),
    workflows: counted<WorkflowRepository>(
      inner.workflows,
      'workflows',
      ['ensure', 'get', 'list'],
      calls,
    ),
    runs: counted<RunRepository>(
      inner.runs,
      'runs',
      ['start', 'getOrCreateForMessage', 'get', 'getByMessage', 'list', 'transition'],
      calls,
    ),
    steps: counted<StepRepository>(
      inner.steps,
      'steps',
      ['acquire', 'complete', 'fail', 'retry', 'get', 'list'],
      calls,
    ),
    events: counted<EventRepository>(
      inner.events,
      'events',
      ['send', 'consume', 'markWaiting', 'pending', 'list', 'setValue', 'getValue'],
      calls,
    ),
  }
}

/** A store that counts what pgqrs asks of it and passes every call on to `inner`. */
export class TracedStore implements Store {
  readonly backend = 'traced'
  readonly capabilities: StoreCapabilities
  readonly config: Store['config']
  readonly calls: CallCounts = new Map()
  readonly queues: QueueRepository
  readonly messages: MessageRepository
  readonly workers: WorkerRepository
  readonly workflows: WorkflowRepository
  readonly runs: RunRepository
  readonly steps: StepRepository
  readonly events: EventRepository
  readonly #inner: Store

  constructor(inner: Store) {
    this.#inner = inner
    this.capabilities = inner.capabilities
    this.config = inner.config
    const repos = repositories(inner, this.calls)
    this.queues = repos.queues
    this.messages = repos.messages
    this.workers = repos.workers
    this.workflows = repos.workflows
    this.runs = repos.runs
    this.steps = repos.steps
    this.events = repos.events
  }

  /** The store the calls go to. */
  get inner(): Store {
    return this.#inner
  }

  queue(name: string): Promise<QueueRecord> {
    return this.queues.ensure(name)
  }

  migrate(): Promise<void> {
    return this.#inner.migrate()
  }

  migrations(): Promise<string[]> {
    return this.#inner.migrations()
  }

  schemaStatus(): Promise<SchemaStatus> {
    return this.#inner.schemaStatus()
  }

  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.#inner.transaction((tx) => fn({ ...repositories(tx, this.calls), db: tx.db }))
  }

  withTransaction(tx: unknown): StoreRepositories {
    return repositories(this.#inner.withTransaction(tx), this.calls)
  }

  listen(
    channels: readonly string[],
    onNotify: (channel: string) => void,
  ): Promise<Subscription | null> {
    return this.#inner.listen(channels, onNotify)
  }

  producer<T = unknown>(queue: string): Promise<Producer<T>> {
    return createProducer<T>(this, queue)
  }

  consumer<T = unknown>(queue: string): Promise<Consumer<T>> {
    return createConsumer<T>(this, queue)
  }

  close(): Promise<void> {
    return this.#inner.close()
  }
}
