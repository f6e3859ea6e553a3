// OpenTelemetry of the workflow layer with the SDK's in-memory exporters: a run started in a
// request's span, a span per delivery of the run in that trace with its step spans (a step
// replayed after a sleep is marked, not re-timed), sleeps as events, and the run and step metrics
// next to what the database holds.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SpanKind, trace } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { connect, type Store } from '@pgqrs/core'
import {
  defineWorkflow,
  NonRetryableError,
  observeRuns,
  type WorkflowWorker,
  workflowWorker,
} from '@pgqrs/workflow'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { registerSdk } from './telemetry/sdk.ts'

/** A metric's data points as plain objects, by instrument name. */
type Points = Map<string, { attributes: Record<string, unknown>; value: unknown }[]>

async function collect(sdk: ReturnType<typeof registerSdk>): Promise<Points> {
  const { resourceMetrics } = await sdk.reader.collect()
  const points: Points = new Map()
  for (const scope of resourceMetrics.scopeMetrics)
    for (const m of scope.metrics)
      points.set(
        m.descriptor.name,
        m.dataPoints.map((p) => ({ attributes: { ...p.attributes }, value: p.value })),
      )
  return points
}

const isZeroLength = (s: ReadableSpan) => s.duration[0] === 0 && s.duration[1] === 0
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId
const byStart = (a: ReadableSpan, b: ReadableSpan) =>
  a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]

describe('OpenTelemetry: workflows', () => {
  let dir: string
  let store: Store
  let sdk: ReturnType<typeof registerSdk>
  let runner: WorkflowWorker | null = null
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgqrs-otel-wf-'))
    sdk = registerSdk()
    store = await connect(`sqlite://${join(dir, 'otel.db')}`, { logger: false })
    await store.migrate()
  })
  afterEach(async () => {
    await runner?.stop()
    runner = null
    await store.close()
    await sdk.disable()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a span per delivery with a span per step; after a sleep, the stored steps are replayed: marked, zero-length', async () => {
    const signup = defineWorkflow({
      name: 'signup',
      async run(ctx, input: { user: string }) {
        const id = await ctx.step('create_user', () =>
          trace.getTracer('app').startActiveSpan('insert user', (span) => {
            span.end()
            return 42
          }),
        )
        await ctx.step('send_welcome', () => `welcome ${input.user}`)
        await ctx.sleep('cool_down', 50)
        return ctx.step('activate', () => ({ id, active: true }))
      },
    })
    runner = await workflowWorker(store, [signup], { pollIntervalMs: 20 }).start()
    // started inside a request's span: every delivery of the run continues that trace
    const handle = await trace.getTracer('app').startActiveSpan('POST /signup', async (span) => {
      const h = await signup.start(store, { user: 'ada' })
      span.end()
      return h
    })
    expect(await handle.result({ timeoutMs: 20_000 })).toEqual({ id: 42, active: true })
    await runner.stop()

    const spans = sdk.spans.getFinishedSpans()
    const request = spans.find((s) => s.name === 'POST /signup')!
    const start = spans.find((s) => s.name === 'start signup')!
    expect(parentOf(start)).toBe(request.spanContext().spanId)
    expect(start.kind).toBe(SpanKind.PRODUCER)
    expect(start.attributes).toMatchObject({
      'messaging.destination.name': 'signup',
      'messaging.operation.type': 'send',
      'pgqrs.run.id': String(handle.id),
    })
    const deliveries = spans.filter((s) => s.name === 'workflow signup').sort(byStart)
    expect(deliveries).toHaveLength(2)
    const [first, second] = deliveries as [ReadableSpan, ReadableSpan]
    for (const d of deliveries) {
      expect(d.attributes).toMatchObject({
        'pgqrs.run.id': String(handle.id),
        'pgqrs.workflow.name': 'signup',
        'pgqrs.workflow.version': 1,
        'pgqrs.run.attempt': 1,
      })
      // a child of the queue worker's process span of the same message
      const process_ = spans.find((s) => s.spanContext().spanId === parentOf(d))
      expect(process_?.name).toBe('process signup')
      // ... whose parent is the start span: both deliveries are in the request's trace
      expect(parentOf(process_!)).toBe(start.spanContext().spanId)
      expect(d.spanContext().traceId).toBe(request.spanContext().traceId)
    }
    expect(first.attributes).toMatchObject({
      'pgqrs.run.status_before': 'QUEUED',
      'pgqrs.run.status': 'SLEEPING',
    })
    expect(second.attributes).toMatchObject({
      'pgqrs.run.status_before': 'SLEEPING',
      'pgqrs.run.status': 'SUCCESS',
    })
    // the sleep: an event on each delivery's span
    const sleep = (d: ReadableSpan) => d.events.find((e) => e.name === 'pgqrs.sleep')?.attributes
    expect(sleep(first)).toMatchObject({
      'pgqrs.step.key': 'cool_down',
      'pgqrs.sleep.ms': 50,
      'pgqrs.sleep.outcome': 'sleeping',
    })
    expect(sleep(second)).toMatchObject({ 'pgqrs.sleep.outcome': 'over' })

    const stepsOf = (d: ReadableSpan) =>
      spans
        .filter((s) => s.name.startsWith('step ') && parentOf(s) === d.spanContext().spanId)
        .sort(byStart)
        .map((s) => ({
          name: s.name,
          replayed: s.attributes['pgqrs.step.replayed'],
          zero: isZeroLength(s),
        }))
    expect(stepsOf(first)).toEqual([
      { name: 'step create_user', replayed: false, zero: false },
      { name: 'step send_welcome', replayed: false, zero: false },
    ])
    expect(stepsOf(second)).toEqual([
      { name: 'step create_user', replayed: true, zero: true },
      { name: 'step send_welcome', replayed: true, zero: true },
      { name: 'step activate', replayed: false, zero: false },
    ])
    // a span the step function starts is a child of the step's span
    const createUser = spans.find(
      (s) => s.name === 'step create_user' && s.attributes['pgqrs.step.replayed'] === false,
    )!
    const insert = spans.find((s) => s.name === 'insert user')!
    expect(parentOf(insert)).toBe(createUser.spanContext().spanId)
    expect(createUser.attributes).toMatchObject({
      'pgqrs.step.key': 'create_user',
      'pgqrs.step.name': 'create_user',
      'pgqrs.workflow.name': 'signup',
    })
  })

  it('metrics match the database: runs started and ended, step durations, runs by workflow and status', async () => {
    const ok = defineWorkflow({
      name: 'ok',
      async run(ctx) {
        await ctx.step('a', () => 1)
        await ctx.step('b', () => 2)
        return 'done'
      },
    })
    const bad = defineWorkflow({
      name: 'bad',
      run: (ctx) =>
        ctx.step('boom', () => {
          throw new NonRetryableError('no')
        }),
    })
    // no worker runs this one: its runs stay QUEUED
    const idle = defineWorkflow({ name: 'idle', run: () => 0 })
    runner = await workflowWorker(store, [ok, bad], { pollIntervalMs: 20 }).start()
    const handles = [
      await ok.start(store, null),
      await ok.start(store, null),
      await bad.start(store, null),
    ]
    await idle.start(store, null)
    await idle.start(store, null)
    for (const h of handles) await h.result({ timeoutMs: 20_000 }).catch(() => null)
    await runner.stop()

    const stop = observeRuns(store)
    const points = await collect(sdk)
    stop()
    const sum = (name: string, attrs: Record<string, unknown>) =>
      (points.get(name) ?? [])
        .filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
        .reduce(
          (n, p) =>
            n + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count),
          0,
        )
    const wf = (name: string) => ({ 'pgqrs.workflow.name': name })
    expect(sum('pgqrs.runs.started', wf('ok'))).toBe(2)
    expect(sum('pgqrs.runs.started', wf('bad'))).toBe(1)
    expect(sum('pgqrs.runs.started', wf('idle'))).toBe(0)
    expect(sum('pgqrs.runs.ended', { ...wf('ok'), 'pgqrs.run.status': 'SUCCESS' })).toBe(2)
    expect(sum('pgqrs.runs.ended', { ...wf('bad'), 'pgqrs.run.status': 'ERROR' })).toBe(1)
    // every step executed once: two per ok run, the failed one of the bad run
    expect(sum('pgqrs.step.duration', { ...wf('ok'), 'pgqrs.outcome': 'success' })).toBe(4)
    expect(
      sum('pgqrs.step.duration', {
        ...wf('bad'),
        'pgqrs.step.name': 'boom',
        'pgqrs.outcome': 'error',
      }),
    ).toBe(1)

    // the gauge is what the database counts, and that is what the runs are
    const db = await store.runs.counts!()
    expect(db).toEqual([
      { workflow: 'bad', status: 'ERROR', count: 1 },
      { workflow: 'idle', status: 'QUEUED', count: 2 },
      { workflow: 'ok', status: 'SUCCESS', count: 2 },
    ])
    for (const c of db)
      expect(sum('pgqrs.workflow.runs', { ...wf(c.workflow), 'pgqrs.run.status': c.status })).toBe(
        c.count,
      )
    expect((points.get('pgqrs.workflow.runs') ?? []).length).toBe(db.length)
    const listed = await store.runs.list({ limit: 100 })
    expect(listed.filter((r) => r.status === 'SUCCESS')).toHaveLength(2)
  })

  it('telemetry: false: the workflow worker emits no spans and no workflow metrics', async () => {
    const quiet = defineWorkflow({
      name: 'quiet',
      run: (ctx) => ctx.step('only', () => 1),
    })
    runner = await workflowWorker(store, [quiet], { pollIntervalMs: 20, telemetry: false }).start()
    const h = await quiet.start(store, null)
    expect(await h.result({ timeoutMs: 20_000 })).toBe(1)
    await runner.stop()
    // only the starter's span (start() is not the worker's): no process, workflow or step span
    expect(sdk.spans.getFinishedSpans().map((s) => s.name)).toEqual(['start quiet'])
    const points = await collect(sdk)
    for (const name of ['pgqrs.runs.started', 'pgqrs.runs.ended', 'pgqrs.step.duration'])
      expect(points.get(name) ?? []).toEqual([])
  })
})
