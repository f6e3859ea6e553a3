// graphile-worker in its documented high-throughput configuration: LISTEN/NOTIFY (always on),
// prepared statements (default), and at batch > 1 its local queue plus batched completions.
import {
  Logger,
  makeWorkerUtils,
  type Runner,
  run,
  runMigrations,
  type WorkerUtils,
} from 'graphile-worker'
import pg from 'pg'
import { type Payload, payload, type Subject, type Target } from '../types.ts'
import { chunks, mapLimit, packageVersion } from '../util.ts'
import type { ConsumeOptions, QueueSystem, Running } from './system.ts'

export async function version(): Promise<string> {
  return packageVersion('graphile-worker')
}

export const configuration = [
  "`runMigrations({ connectionString, schema })`; jobs use one task identifier, no named queue (graphile's fastest path)",
  'fill: `workerUtils.addJobs(specs)` in chunks of 2 000 (one `add_jobs` call each)',
  'per consumer one `run({ pgPool, schema, concurrency: batch, noHandleSignals: true, taskList, crontab: "" })` runner sharing one pool of 14 connections (10 + a LISTEN connection per runner); `preparedStatements` default (on); success logging off (`NO_LOG_SUCCESS=1`, as its perfTest)',
  'batch 1: the unbatched configuration (`localQueue` off, `completeJobBatchDelay: -1`); batch > 1: `localQueue: { size: batch }`, `completeJobBatchDelay: 0`, `failJobBatchDelay: 0` (its batched configuration)',
  'producer (b, c): `makeWorkerUtils()` with its own pool; `addJob()` for one message, `addJobs()` for several',
]

const TASK = 'bench'

/** Errors only: graphile logs every job at info level otherwise. */
const logger = new Logger(() => (level, message) => {
  if (level === 'error') console.error(`graphile-worker: ${message}`)
})

class GraphileSystem implements QueueSystem {
  readonly name = 'graphile-worker' as const
  readonly #target: Target
  #utils: Promise<WorkerUtils> | null = null
  #pool: pg.Pool | null = null
  #runners: Runner[] = []

  constructor(target: Target) {
    this.#target = target
  }

  #workerUtils(): Promise<WorkerUtils> {
    this.#utils ??= makeWorkerUtils({
      connectionString: this.#target.url,
      schema: this.#target.schema,
      logger,
    })
    return this.#utils
  }

  async install(): Promise<void> {
    await runMigrations({ connectionString: this.#target.url, schema: this.#target.schema, logger })
  }

  /** The runners' pool: 10 for queries plus one LISTEN connection per runner (up to 4). */
  #runnerPool(): pg.Pool {
    if (!this.#pool) {
      this.#pool = new pg.Pool({ connectionString: this.#target.url, max: 14 })
      const log = (e: Error) => console.error(`graphile-worker pool: ${e.message}`)
      this.#pool.on('error', log)
      this.#pool.on('connect', (client) => client.on('error', log))
    }
    return this.#pool
  }

  async connect(): Promise<void> {
    await this.#runnerPool().query('select 1')
    await this.remaining()
  }

  async fill(count: number, from = 0): Promise<void> {
    const utils = await this.#workerUtils()
    await mapLimit(chunks(count, 2_000, from), 4, async ([start, n]) => {
      await utils.addJobs(
        Array.from({ length: n }, (_, k) => ({ identifier: TASK, payload: payload(start + k) })),
      )
    })
  }

  async enqueue(payloads: readonly Payload[]): Promise<void> {
    const utils = await this.#workerUtils()
    if (payloads.length === 1) await utils.addJob(TASK, payloads[0]!)
    else await utils.addJobs(payloads.map((p) => ({ identifier: TASK, payload: p })))
  }

  async consume(o: ConsumeOptions): Promise<Running> {
    const pool = this.#runnerPool()
    const batched = o.batch > 1 || (o.prefetch ?? 0) > 0
    const localQueue = o.prefetch ?? o.batch
    const runners: Runner[] = []
    for (let c = 0; c < o.consumers; c++) {
      runners.push(
        await run({
          pgPool: pool,
          schema: this.#target.schema,
          concurrency: o.concurrency ?? o.batch,
          noHandleSignals: true,
          logger,
          crontab: '',
          taskList: {
            [TASK]: async (p) => {
              o.onMessage(p as Payload)
            },
          },
          preset: {
            worker: batched
              ? { localQueue: { size: localQueue }, completeJobBatchDelay: 0, failJobBatchDelay: 0 }
              : { completeJobBatchDelay: -1, failJobBatchDelay: -1 },
          },
        }),
      )
    }
    this.#runners.push(...runners)
    return {
      stop: async () => {
        await Promise.all(runners.map((r) => r.stop()))
        this.#runners = this.#runners.filter((r) => !runners.includes(r))
      },
    }
  }

  async remaining(): Promise<number> {
    const utils = await this.#workerUtils()
    return utils.withPgClient(async (client) => {
      const r = await client.query<{ n: number }>(
        `select count(*)::int as n from "${this.#target.schema}"._private_jobs`,
      )
      return r.rows[0]!.n
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.#runners.map((r) => r.stop()))
    if (this.#utils) await (await this.#utils).release()
    await this.#pool?.end()
  }
}

export function open(target: Target, _subject: Subject): QueueSystem {
  return new GraphileSystem(target)
}
