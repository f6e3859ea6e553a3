// pgqrs: the store of the target's backend, `Producer.enqueueMany` to fill, and either
// `consumer.dequeue({ batchSize })` + `archiveMany` loops or `worker()` to consume.
import type { Store } from '@pgqrs/core'
import { type Worker, worker } from 'pgqrs'
import { type Payload, payload, type Subject, type Target } from '../types.ts'
import { chunks, mapLimit, packageVersion, sleep } from '../util.ts'
import type { ConsumeOptions, QueueSystem, Running } from './system.ts'

export async function version(): Promise<string> {
  return packageVersion('pgqrs')
}

export const configuration = [
  '`PostgresStore({ connectionString, schema })`: pool of 10 (the default; its LISTEN connection is taken from it); `SqliteStore({ path })` (WAL) and `TursoStore({ url: "file:…" })` for the embedded rows; everything else default (lease 30 s, `pollIntervalMs` 1 000, payload validation on)',
  'fill: `producer.enqueueMany()` in chunks of 2 000 (one statement each)',
  '**pgqrs (loop)**: per consumer `consumer.dequeue({ batchSize })`, then `consumer.archiveMany(batch)` (one statement each); an empty dequeue waits 5 ms',
  '**pgqrs (worker)**: per consumer one `worker(store, queue, handler, { concurrency: batch, batchSize: batch })`, so total concurrency = batch × consumers; the worker archives finished messages with its next claim (`settleAndDequeue`: one statement and one commit per batch)',
  "**pgqrs (worker, delete)**: the same with `onSuccess: 'delete'`: handled messages are deleted instead of archived, as graphile-worker and pg-boss (with its default retention aside) treat completed jobs; the archive is pgqrs's default, so the plain worker row is the headline",
  '**pgqrs (worker, telemetry off)**: the worker row with `telemetry: false`; no OpenTelemetry SDK is installed in the bench, so the plain worker row is telemetry on without an SDK (the default) and the two rows together show what the no-op instrumentation costs',
  'producer (b, c): a second store instance (its own pool), so wake-ups come through LISTEN/NOTIFY, not the in-process nudge',
]

/**
 * Opens a pgqrs store for the target: PostgresStore in its own schema, or the sqlite-family file.
 * Only the backend's own package is loaded (its driver counts in the child's RSS).
 */
export async function openStore(target: Target): Promise<Store> {
  switch (target.backend) {
    case 'postgres': {
      const { PostgresStore } = await import('@pgqrs/store-postgres')
      return new PostgresStore({ connectionString: target.url, schema: target.schema })
    }
    case 'sqlite': {
      const { SqliteStore } = await import('@pgqrs/store-sqlite')
      return new SqliteStore({ path: target.file! })
    }
    case 'turso': {
      const { TursoStore } = await import('@pgqrs/store-turso')
      return new TursoStore({ url: `file:${target.file!}` })
    }
  }
}

class PgqrsSystem implements QueueSystem {
  readonly name = 'pgqrs' as const
  readonly #target: Target
  readonly #subject: Subject
  #store: Promise<Store> | null = null
  #producerStore: Promise<Store> | null = null

  constructor(target: Target, subject: Subject) {
    this.#target = target
    this.#subject = subject
  }

  #main(): Promise<Store> {
    this.#store ??= openStore(this.#target)
    return this.#store
  }

  async install(): Promise<void> {
    const store = await this.#main()
    await store.migrate()
    await store.queues.ensure(this.#target.queue)
  }

  async connect(): Promise<void> {
    const store = await this.#main()
    await store.queues.get(this.#target.queue)
  }

  async fill(count: number, from = 0): Promise<void> {
    const producer = await (await this.#main()).producer<Payload>(this.#target.queue)
    const parallel = this.#target.backend === 'postgres' ? 4 : 1
    await mapLimit(chunks(count, 2_000, from), parallel, async ([start, n]) => {
      await producer.enqueueMany(Array.from({ length: n }, (_, k) => payload(start + k)))
    })
  }

  async enqueue(payloads: readonly Payload[]): Promise<void> {
    // The sqlite family is single-process per file: its producer shares the consumers' store.
    const separate = this.#target.backend === 'postgres'
    this.#producerStore ??= separate ? openStore(this.#target) : this.#main()
    const producer = await (await this.#producerStore).producer<Payload>(this.#target.queue)
    if (payloads.length === 1) await producer.enqueue(payloads[0]!)
    else await producer.enqueueMany(payloads)
  }

  async consume(options: ConsumeOptions): Promise<Running> {
    const store = await this.#main()
    if (this.#subject.mode === 'loop') return startLoops(store, this.#target.queue, options)
    if (this.#subject.mode === 'sql') {
      const { startSqlLoops } = await import('./pgqrs-sql.ts')
      return startSqlLoops(this.#target, store.config.maxConnections, options)
    }
    const onSuccess = this.#subject.mode === 'worker-delete' ? 'delete' : 'archive'
    const telemetry = this.#subject.mode !== 'worker-untraced'
    return startWorkers(store, this.#target.queue, options, onSuccess, telemetry)
  }

  async remaining(): Promise<number> {
    const m = await (await this.#main()).queues.metrics(this.#target.queue)
    return m ? m.pending + m.leased + m.delayed : 0
  }

  async close(): Promise<void> {
    const stores = [this.#store, this.#producerStore].filter((s) => s !== null)
    await Promise.all([...new Set(stores)].map(async (s) => (await s).close()))
  }
}

async function startWorkers(
  store: Store,
  queue: string,
  o: ConsumeOptions,
  onSuccess: 'archive' | 'delete',
  telemetry = true,
): Promise<Running> {
  const workers: Worker<Payload>[] = []
  for (let c = 0; c < o.consumers; c++) {
    const w = worker<Payload>(
      store,
      queue,
      (msg) => {
        o.onMessage(msg.payload)
      },
      {
        concurrency: o.concurrency ?? o.batch,
        batchSize: o.batch,
        prefetch: o.prefetch ?? 0,
        onSuccess,
        telemetry,
      },
    )
    w.on('error', (e) => console.error(`pgqrs worker error: ${e.message}`))
    workers.push(w)
  }
  await Promise.all(workers.map((w) => w.start()))
  return { stop: async () => void (await Promise.all(workers.map((w) => w.stop()))) }
}

async function startLoops(store: Store, queue: string, o: ConsumeOptions): Promise<Running> {
  let stopping = false
  const loops: Promise<void>[] = []
  for (let c = 0; c < o.consumers; c++) {
    const consumer = await store.consumer<Payload>(queue)
    loops.push(
      (async () => {
        while (!stopping) {
          const batch = await consumer.dequeue({ batchSize: o.batch })
          if (batch.length === 0) {
            await sleep(5)
            continue
          }
          for (const msg of batch) o.onMessage(msg.payload)
          await consumer.archiveMany(batch)
        }
      })(),
    )
  }
  return {
    stop: async () => {
      stopping = true
      await Promise.all(loops)
    },
  }
}

export function open(target: Target, subject: Subject): QueueSystem {
  return new PgqrsSystem(target, subject)
}
