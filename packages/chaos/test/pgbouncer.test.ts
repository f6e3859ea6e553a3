/**
 * PgBouncer in transaction mode (Debian package, started on a loopback port in front of the test
 * server): the queue and workflow flows work through it; LISTEN/NOTIFY does not, which the store
 * must detect on its first listen (`notificationsWorking === false`, one loud warning) while workers
 * keep processing within `pollIntervalMs`; with `listenUrl` on the direct server, wake-ups work.
 * If PgBouncer cannot be installed or started, these tests FAIL with the reason (they never skip).
 */
import { type Logger, type QueueMessage, TERMINAL_RUN_STATUSES } from '@pgqrs/core'
import { worker } from '@pgqrs/queue'
import { PostgresStore } from '@pgqrs/store-postgres'
import { defineWorkflow, workflowWorker } from '@pgqrs/workflow'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type Bouncer, ensurePgbouncer, startPgbouncer } from '../src/pgbouncer.ts'
import { writeSection } from '../src/results.ts'

const pgUrl = inject('pgUrl')
const started = Date.now()
const SCHEMA = `chaos_bouncer_${process.pid}`
const POLL_MS = 500

const data: Record<string, any> = { flows: {} }
const violations: string[] = []
let setupError: Error | null = null
let bouncer: Bouncer | null = null
const stores: PostgresStore[] = []

function capture(): Logger & { warnings: string[] } {
  const warnings: string[] = []
  return {
    warnings,
    debug() {},
    info() {},
    warn(message: string) {
      warnings.push(message)
    },
    error(message: string) {
      warnings.push(`ERROR ${message}`)
    },
  } as unknown as Logger & { warnings: string[] }
}

function bouncerStore(
  options: { listenUrl?: string; pollIntervalMs?: number; logger?: Logger } = {},
) {
  const db = new URL(pgUrl).pathname.slice(1)
  const store = new PostgresStore({
    connectionString: bouncer!.url(db),
    schema: SCHEMA,
    maxConnections: 5,
    pollIntervalMs: options.pollIntervalMs ?? POLL_MS,
    logger: options.logger ?? false,
    ...(options.listenUrl ? { listenUrl: options.listenUrl } : {}),
  })
  stores.push(store)
  return store
}

/** Enqueues one message from `producer` and resolves with ms until `started` sees it. */
async function wakeLatency(
  producer: PostgresStore,
  queue: string,
  started: Map<number, number>,
): Promise<number> {
  const [m] = await producer.messages.enqueue(queue, [{ payload: { at: Date.now() } }])
  const t0 = Date.now()
  const deadline = t0 + 15_000
  while (!started.has(m!.id)) {
    if (Date.now() > deadline) throw new Error(`message ${m!.id} was not handled within 15 s`)
    await new Promise((r) => setTimeout(r, 5))
  }
  return started.get(m!.id)! - t0
}

describe.skipIf(!pgUrl)('PgBouncer in transaction mode', () => {
  beforeAll(async () => {
    try {
      const info = ensurePgbouncer()
      data.pgbouncer = info
      const u = new URL(pgUrl)
      bouncer = await startPgbouncer(info.path, {
        host: u.hostname,
        port: Number(u.port || 5432),
        user: decodeURIComponent(u.username || 'postgres'),
        password: u.password ? decodeURIComponent(u.password) : undefined,
      })
      data.port = bouncer.port
      const direct = new pg.Client({ connectionString: pgUrl })
      await direct.connect()
      await direct.query(`create schema if not exists "${SCHEMA}"`)
      await direct.query(
        `create table "${SCHEMA}".bouncer_tx (run_id bigint not null, pid int not null)`,
      )
      await direct.end()
      await bouncerStore().migrate()
    } catch (e) {
      setupError = e as Error
    }
  }, 600_000)

  afterAll(async () => {
    for (const s of stores) await s.close().catch(() => {})
    if (bouncer) data.log = bouncer.log().split('\n').slice(-5)
    await bouncer?.stop().catch(() => {})
    writeSection({ section: 'pgbouncer', violations, durationMs: Date.now() - started, data })
  })

  const needBouncer = () => {
    if (setupError) {
      violations.push(`PgBouncer unavailable: ${setupError.message}`)
      throw new Error(
        `PgBouncer is required for this test and could not be set up: ${setupError.message}`,
      )
    }
  }

  it('queue: enqueue and a worker drain pass through PgBouncer', async () => {
    needBouncer()
    const store = bouncerStore()
    await store.queue('bq')
    const msgs = await store.messages.enqueue(
      'bq',
      Array.from({ length: 200 }, (_, i) => ({ payload: { i } })),
    )
    const seen = new Map<number, number>()
    const w = worker(
      store,
      'bq',
      async (m: QueueMessage) => {
        seen.set(m.id, (seen.get(m.id) ?? 0) + 1)
      },
      { concurrency: 8, leaseMs: 5_000 },
    )
    const t0 = Date.now()
    await w.start()
    while ((await store.queues.metrics('bq'))!.archived < msgs.length) {
      if (Date.now() - t0 > 30_000) break
      await new Promise((r) => setTimeout(r, 50))
    }
    await w.stop()
    const m = (await store.queues.metrics('bq'))!
    data.flows.queue = {
      enqueued: msgs.length,
      archived: m.archived,
      ms: Date.now() - t0,
      handledTwice: [...seen.values()].filter((n) => n > 1).length,
    }
    if (m.archived !== msgs.length)
      violations.push(`queue through PgBouncer: ${m.archived}/${msgs.length} archived`)
    expect(m.archived).toBe(msgs.length)
    expect(m.pending + m.leased + m.delayed).toBe(0)
  })

  it('workflow: 3-step runs with a transactional step pass through PgBouncer', async () => {
    needBouncer()
    const store = bouncerStore()
    const wf = defineWorkflow({
      name: 'bouncer_wf',
      async run(ctx, input: { n: number }) {
        const a = await ctx.step('a', () => input.n * 2)
        await ctx.step(
          'b',
          async (tx: any) => {
            await tx
              .withSchema(SCHEMA)
              .insertInto('bouncer_tx')
              .values({ run_id: ctx.runId, pid: process.pid })
              .execute()
          },
          { transactional: true },
        )
        return ctx.step('c', () => a + 1)
      },
    })
    const runner = workflowWorker(store, [wf], { concurrency: 4, leaseMs: 5_000 })
    await runner.start()
    const handles = await Promise.all(Array.from({ length: 10 }, (_, n) => wf.start(store, { n })))
    const outputs = await Promise.all(
      handles.map((h) => h.result({ timeoutMs: 30_000, pollIntervalMs: 100 })),
    )
    await runner.stop()
    const direct = new pg.Client({ connectionString: pgUrl })
    await direct.connect()
    const rows = (
      await direct.query(
        `select run_id, count(*)::int as n from "${SCHEMA}".bouncer_tx group by run_id`,
      )
    ).rows
    await direct.end()
    const statuses = await Promise.all(handles.map((h) => h.status()))
    data.flows.workflow = {
      runs: handles.length,
      succeeded: statuses.filter((s) => s.status === 'SUCCESS').length,
      txRowsPerRun: [...new Set(rows.map((r) => r.n))],
    }
    expect(outputs).toEqual(Array.from({ length: 10 }, (_, n) => n * 2 + 1))
    expect(statuses.every((s) => TERMINAL_RUN_STATUSES.includes(s.status))).toBe(true)
    expect(rows.length).toBe(10)
    expect(rows.every((r) => r.n === 1)).toBe(true)
  })

  it('LISTEN/NOTIFY falls back to polling (loudly, once) and workers still process within pollIntervalMs', async () => {
    needBouncer()
    const logger = capture()
    const store = bouncerStore({ logger })
    const producer = bouncerStore() // a different store: no in-process wake-up
    await store.queue('bpoll')
    const startedAt = new Map<number, number>()
    const w = worker(
      store,
      'bpoll',
      async (m: QueueMessage) => {
        startedAt.set(m.id, Date.now())
      },
      { pollIntervalMs: POLL_MS },
    )
    await w.start() // the first listen runs the self-test
    const working = store.notificationsWorking
    const second = await store.listen(['other'], () => {}) // a second listen must not warn again
    await second?.close()
    const latencies: number[] = []
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 150 + i * 37)) // land at different points of the poll cycle
      latencies.push(await wakeLatency(producer, 'bpoll', startedAt))
    }
    await w.stop()
    const loud = logger.warnings.filter((x) => /LISTEN\/NOTIFY does not work/.test(x))
    data.fallback = {
      notificationsWorking: working,
      warnings: loud.length,
      pollIntervalMs: POLL_MS,
      latenciesMs: latencies,
    }
    if (working !== false)
      violations.push('notificationsWorking was not false behind PgBouncer in transaction mode')
    expect(working).toBe(false)
    expect(loud.length).toBe(1)
    for (const l of latencies) expect(l).toBeLessThanOrEqual(POLL_MS + 400)
  })

  it('with listenUrl on the direct server, NOTIFY wake-ups work through PgBouncer', async () => {
    needBouncer()
    const store = bouncerStore({ listenUrl: pgUrl, pollIntervalMs: 10_000 })
    const producer = bouncerStore({ pollIntervalMs: 10_000 })
    await store.queue('bwake')
    const startedAt = new Map<number, number>()
    const w = worker(
      store,
      'bwake',
      async (m: QueueMessage) => {
        startedAt.set(m.id, Date.now())
      },
      { pollIntervalMs: 10_000 },
    )
    await w.start()
    const working = store.notificationsWorking
    const latencies: number[] = []
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 100))
      latencies.push(await wakeLatency(producer, 'bwake', startedAt))
    }
    await w.stop()
    data.listenUrl = {
      notificationsWorking: working,
      pollIntervalMs: 10_000,
      latenciesMs: latencies,
    }
    expect(working).toBe(true)
    for (const l of latencies) expect(l).toBeLessThan(2_000)
  })
})
