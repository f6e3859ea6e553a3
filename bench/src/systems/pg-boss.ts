// pg-boss in its documented high-throughput configuration: createQueue() first, LISTEN/NOTIFY on,
// batchSize + burstWhenBatchFull, polling intervals at their minimum (0.5 s).
import pg from 'pg'
import { PgBoss } from 'pg-boss'
import { type Payload, payload, type Subject, type Target } from '../types.ts'
import { chunks, mapLimit, packageVersion } from '../util.ts'
import type { ConsumeOptions, QueueSystem, Running } from './system.ts'

export async function version(): Promise<string> {
  return packageVersion('pg-boss')
}

export const configuration = [
  '`new PgBoss({ connectionString, schema, max: 10, useListenNotify: true, schedule: false })`; supervision/maintenance on (defaults)',
  '`createQueue(queue, { notify: true })` before anything else (policy `standard`, retention defaults)',
  'fill: `insert(queue, jobs)` in chunks of 2 000',
  '`work(queue, { batchSize: batch, localConcurrency: consumers, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 }, handler)`; the handler gets the batch and returns, pg-boss completes the batch in one statement',
  'at batch 1 `burstWhenBatchFull` is ignored by pg-boss (documented), so each worker fetches at most every 0.5 s: those rows are capped in time and report the rate reached',
  'producer (b, c): a second PgBoss instance (`supervise: false`, `migrate: false`); one message goes through `send()`, several through `insert()`',
]

function boss(target: Target, producer: boolean): PgBoss {
  const b = new PgBoss({
    connectionString: target.url,
    schema: target.schema,
    max: 10,
    schedule: false,
    useListenNotify: !producer,
    ...(producer ? { supervise: false, migrate: false } : {}),
  })
  b.on('error', (e) => console.error(`pg-boss error: ${(e as Error).message}`))
  return b
}

class PgBossSystem implements QueueSystem {
  readonly name = 'pg-boss' as const
  readonly #target: Target
  #main: Promise<PgBoss> | null = null
  #producer: Promise<PgBoss> | null = null
  #pool: pg.Pool | null = null

  constructor(target: Target) {
    this.#target = target
  }

  #boss(): Promise<PgBoss> {
    this.#main ??= boss(this.#target, false).start()
    return this.#main
  }

  async install(): Promise<void> {
    const b = await this.#boss()
    await b.createQueue(this.#target.queue, { notify: true })
  }

  async connect(): Promise<void> {
    await this.#boss()
    await this.remaining()
  }

  async fill(count: number, from = 0): Promise<void> {
    const b = await this.#boss()
    await mapLimit(chunks(count, 2_000, from), 4, async ([start, n]) => {
      await b.insert(
        this.#target.queue,
        Array.from({ length: n }, (_, k) => ({ data: payload(start + k) })),
      )
    })
  }

  async enqueue(payloads: readonly Payload[]): Promise<void> {
    this.#producer ??= boss(this.#target, true).start()
    const b = await this.#producer
    if (payloads.length === 1) await b.send(this.#target.queue, payloads[0]!)
    else
      await b.insert(
        this.#target.queue,
        payloads.map((data) => ({ data })),
      )
  }

  async consume(o: ConsumeOptions): Promise<Running> {
    const b = await this.#boss()
    const queue = this.#target.queue
    await b.work<Payload>(
      queue,
      {
        batchSize: o.batch,
        localConcurrency: Math.max(o.consumers, Math.ceil((o.concurrency ?? o.batch) / o.batch)),
        burstWhenBatchFull: true,
        pollingIntervalSeconds: 0.5,
        notifyPollingIntervalSeconds: 0.5,
      },
      async (jobs) => {
        for (const job of jobs) o.onMessage(job.data)
      },
    )
    return { stop: () => b.offWork(queue, { wait: true }) }
  }

  async remaining(): Promise<number> {
    this.#pool ??= new pg.Pool({ connectionString: this.#target.url, max: 1 })
    const r = await this.#pool.query<{ n: number }>(
      `select count(*)::int as n from "${this.#target.schema}".job
        where name = $1 and state in ('created', 'retry', 'active')`,
      [this.#target.queue],
    )
    return r.rows[0]!.n
  }

  async close(): Promise<void> {
    const all = [this.#main, this.#producer].filter((b) => b !== null)
    await Promise.all(all.map(async (b) => (await b).stop({ graceful: false, timeout: 1_000 })))
    await this.#pool?.end()
  }
}

export function open(target: Target, _subject: Subject): QueueSystem {
  return new PgBossSystem(target)
}
