// OpenTelemetry through @opentelemetry/api with the SDK's in-memory exporters: one trace from an
// HTTP request through enqueue to the handler in another process (SQLite and PostgreSQL), and
// metrics that match the database. Workflow spans and metrics: telemetry-workflow.test.ts.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { context, SpanKind, trace } from '@opentelemetry/api'
import { connect, type Store } from '@pgqrs/core'
import { observeQueues, worker } from '@pgqrs/queue'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runNode } from './run-node.ts'
import { registerSdk, type SpanJson, spansJson } from './telemetry/sdk.ts'

const HERE = dirname(fileURLToPath(import.meta.url))

/**
 * An HTTP service enqueues inside its request span on `store`; a worker in a child process
 * (`env` tells it the database) handles the message: asserts that the request, the enqueue, the
 * process and settle spans and the handler's own span form one trace, parent by parent.
 */
async function expectOneTrace(
  store: Store,
  sdk: ReturnType<typeof registerSdk>,
  env: Record<string, string>,
): Promise<void> {
  const queue = 'emails'
  await store.queue(queue)
  const producer = await store.producer(queue)
  const tracer = trace.getTracer('app')
  // an HTTP service that enqueues inside its request span
  const server = createServer((req, res) => {
    const span = tracer.startSpan(`${req.method} /signup`, { kind: SpanKind.SERVER })
    void context.with(trace.setSpan(context.active(), span), async () => {
      await producer.enqueue({ to: 'a@b.c' })
      span.end()
      res.end('queued')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  expect(await (await fetch(`http://127.0.0.1:${port}/signup`, { method: 'POST' })).text()).toBe(
    'queued',
  )
  server.close()

  const child = await runNode([join(HERE, 'telemetry', 'child-worker.ts')], {
    env: { ...process.env, ...env, PGQRS_QUEUE: queue },
    timeoutMs: 40_000,
  })
  expect(child.code, child.stderr).toBe(0)
  const childSpans = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as SpanJson[]
  const mine = spansJson(sdk.spans)
  const http = mine.find((s) => s.name === 'POST /signup')!
  const enqueue = mine.find((s) => s.name === `enqueue ${queue}`)!
  const process_ = childSpans.find((s) => s.name === `process ${queue}`)!
  const settle = childSpans.find((s) => s.name === `settle ${queue}`)!
  const work = childSpans.find((s) => s.name === 'send email')!
  for (const s of [http, enqueue, process_, settle, work]) expect(s, 'span').toBeDefined()
  // one trace, parent by parent, across the two processes
  for (const s of [enqueue, process_, settle, work]) expect(s.traceId).toBe(http.traceId)
  expect(enqueue.parentSpanId).toBe(http.spanId)
  expect(process_.parentSpanId).toBe(enqueue.spanId)
  expect(work.parentSpanId).toBe(process_.spanId)
  expect(settle.parentSpanId).toBe(process_.spanId)
  // messaging semantic conventions
  expect(enqueue.kind).toBe(SpanKind.PRODUCER)
  expect(process_.kind).toBe(SpanKind.CONSUMER)
  expect(enqueue.attributes).toMatchObject({
    'messaging.system': 'pgqrs',
    'messaging.destination.name': queue,
    'messaging.operation.type': 'send',
  })
  expect(process_.attributes).toMatchObject({
    'messaging.operation.type': 'process',
    'messaging.message.delivery_attempt': 1,
  })
  expect(settle.attributes).toMatchObject({
    'messaging.operation.type': 'settle',
    'messaging.operation.name': 'archive',
  })
}

describe('OpenTelemetry', () => {
  let dir: string
  let dsn: string
  let store: Store
  let sdk: ReturnType<typeof registerSdk>
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgqrs-otel-'))
    dsn = `sqlite://${join(dir, 'otel.db')}`
    sdk = registerSdk()
    store = await connect(dsn, { logger: false })
    await store.migrate()
  })
  afterEach(async () => {
    await store.close()
    await sdk.disable()
    rmSync(dir, { recursive: true, force: true })
  })

  it('one trace: HTTP request -> enqueue (producer) -> process and settle (consumer) in another process -> the handler span', async () => {
    await expectOneTrace(store, sdk, { PGQRS_DSN: dsn })
  })

  it('metrics match the database: handled, failed and dead-lettered counters, depth and oldest pending age gauges', async () => {
    const queue = 'metrics'
    await store.queue(queue)
    const producer = await store.producer(queue)
    await producer.enqueueMany(
      [{ ok: true }, { ok: true }, { ok: true }, { ok: false }, { ok: false }],
      {
        maxAttempts: 1,
      },
    )
    let finished = 0
    const w = worker(
      store,
      queue,
      async (m) => {
        if (!(m.payload as { ok: boolean }).ok) throw new Error('no')
      },
      { pollIntervalMs: 20, concurrency: 2 },
    )
    for (const e of ['message:done', 'message:dead'] as const) w.on(e, () => finished++)
    await w.start()
    while (finished < 5) await new Promise((r) => setTimeout(r, 20))
    await w.stop()
    await producer.enqueueMany([{ later: 1 }, { later: 2 }])
    const stop = observeQueues(store)
    const { resourceMetrics } = await sdk.reader.collect()
    stop()
    const points = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>()
    for (const scope of resourceMetrics.scopeMetrics)
      for (const m of scope.metrics)
        points.set(
          m.descriptor.name,
          m.dataPoints.map((p) => ({ attributes: { ...p.attributes }, value: p.value })),
        )
    const sum = (name: string) =>
      (points.get(name) ?? [])
        .filter((p) => p.attributes['messaging.destination.name'] === queue)
        .reduce((n, p) => n + (p.value as number), 0)
    const db = (await store.queues.metrics(queue))!
    expect(db).toMatchObject({ pending: 2, archived: 3, dead: 2 })
    expect(sum('pgqrs.messages.handled')).toBe(db.archived)
    expect(sum('pgqrs.messages.dead_lettered')).toBe(db.dead)
    expect(sum('pgqrs.messages.failed')).toBe(2)
    const depth = (state: string) =>
      points
        .get('pgqrs.queue.depth')
        ?.find(
          (p) =>
            p.attributes['messaging.destination.name'] === queue &&
            p.attributes['pgqrs.message.state'] === state,
        )?.value
    expect(depth('pending')).toBe(db.pending)
    expect(depth('dead')).toBe(db.dead)
    expect(depth('leased')).toBe(0)
    const age = points
      .get('pgqrs.queue.oldest_pending_age')
      ?.find((p) => p.attributes['messaging.destination.name'] === queue)?.value as number
    expect(age).toBeGreaterThanOrEqual(0)
    expect(age).toBeLessThan(60)
    const durations = points.get('pgqrs.handler.duration') ?? []
    const count = durations
      .filter((p) => p.attributes['messaging.destination.name'] === queue)
      .reduce((n, p) => n + (p.value as { count: number }).count, 0)
    expect(count).toBe(5)
  })
})

const PG_URL =
  process.env.PGQRS_TEST_DATABASE_URL ??
  process.env.PGQRS_TEST_DSN ??
  'postgres://postgres@127.0.0.1:5432/postgres'

/** True when a PostgreSQL server answers at PG_URL (else the reason). */
async function pgAnswers(): Promise<true | string> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch (e) {
    return (e as Error).message
  } finally {
    await client.end().catch(() => {})
  }
}

const pgAnswer = await pgAnswers()
const pgReason = pgAnswer === true ? '' : ` (skipped: no PostgreSQL at ${PG_URL}: ${pgAnswer})`

describe.skipIf(pgAnswer !== true)(`OpenTelemetry on PostgreSQL${pgReason}`, () => {
  let store: Store
  let sdk: ReturnType<typeof registerSdk>
  const schema = `pgqrs_otel_${randomBytes(4).toString('hex')}`
  beforeEach(async () => {
    sdk = registerSdk()
    store = await connect(PG_URL, { logger: false, schema })
    await store.migrate()
  })
  afterEach(async () => {
    await store.close()
    await sdk.disable()
    const client = new pg.Client({ connectionString: PG_URL })
    await client.connect()
    await client.query(`drop schema if exists ${schema} cascade`)
    await client.end()
  })

  it('one trace across two processes on Postgres: HTTP request -> enqueue -> process -> the handler span', async () => {
    await expectOneTrace(store, sdk, { PGQRS_DSN: PG_URL, PGQRS_SCHEMA: schema })
  })
})
