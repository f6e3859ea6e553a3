// OpenTelemetry for the queue layer, through `@opentelemetry/api` only: without an SDK every call
// here is the API's no-op (a non-recording span, no propagation, no-op instruments), so an app that
// installs none pays a few object allocations per message. Names follow the messaging semantic
// conventions (`messaging.system`, `messaging.destination.name`, `messaging.operation.type`, …).
import {
  type Attributes,
  type Context,
  context,
  type Counter,
  type Histogram,
  type MeterProvider,
  metrics,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import { listAll, type QueueMessage, type Store } from '@pgqrs/core'

/** The instrumentation scope of every pgqrs span and instrument. */
export const TELEMETRY_SCOPE = 'pgqrs'

const tracer = trace.getTracer(TELEMETRY_SCOPE)
const SYSTEM = 'pgqrs'

interface Instruments {
  readonly handled: Counter
  readonly failed: Counter
  readonly dead: Counter
  readonly reclaimed: Counter
  readonly handlerDuration: Histogram
}

// Instruments per meter provider: the metrics API has no proxy, so instruments made before the app
// registered its SDK would stay no-ops; looking the provider up per call is one property read.
const byProvider = new WeakMap<MeterProvider, Instruments>()

/** The queue instruments of the global meter provider. @internal */
export function instruments(): Instruments {
  const provider = metrics.getMeterProvider()
  let i = byProvider.get(provider)
  if (!i) {
    const meter = provider.getMeter(TELEMETRY_SCOPE)
    i = {
      handled: meter.createCounter('pgqrs.messages.handled', {
        description: 'Messages whose handler succeeded (then archived or deleted)',
        unit: '{message}',
      }),
      failed: meter.createCounter('pgqrs.messages.failed', {
        description: 'Messages whose handler threw (retried later or dead-lettered)',
        unit: '{message}',
      }),
      dead: meter.createCounter('pgqrs.messages.dead_lettered', {
        description: 'Messages dead-lettered after their last attempt failed',
        unit: '{message}',
      }),
      reclaimed: meter.createCounter('pgqrs.messages.reclaimed', {
        description:
          'Deliveries of a message whose previous lease ran out unsettled (a crashed or stuck holder)',
        unit: '{message}',
      }),
      handlerDuration: meter.createHistogram('pgqrs.handler.duration', {
        description: 'Time a handler took, from its start to its return or throw',
        unit: 's',
      }),
    }
    byProvider.set(provider, i)
  }
  return i
}

/** Reads and writes the W3C trace context in message headers. */
const getter = {
  keys: (h: Record<string, string>) => Object.keys(h),
  get: (h: Record<string, string>, key: string) => h[key],
}

/**
 * Runs an enqueue of `count` messages to `queue` inside a PRODUCER span `enqueue <queue>` and gives
 * `insert` the headers to store with each message: `given` plus the span's trace context
 * (`traceparent`, `tracestate`), so the handler's span continues this trace in any process.
 * Without a recording span (no SDK), `insert` gets `given` unchanged. @internal
 */
export async function traceEnqueue<R>(
  queue: string,
  count: number,
  given: Readonly<Record<string, string>> | undefined,
  insert: (headers: Readonly<Record<string, string>> | undefined) => Promise<R>,
): Promise<R> {
  const span = tracer.startSpan(`enqueue ${queue}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': SYSTEM,
      'messaging.destination.name': queue,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'enqueue',
      ...(count > 1 ? { 'messaging.batch.message_count': count } : {}),
    },
  })
  if (!span.isRecording()) {
    span.end()
    return insert(given)
  }
  const headers: Record<string, string> = { ...given }
  propagation.inject(trace.setSpan(context.active(), span), headers)
  try {
    const out = await context.with(trace.setSpan(context.active(), span), () => insert(headers))
    if (Array.isArray(out) && out.length === 1 && typeof out[0]?.id === 'number')
      span.setAttribute('messaging.message.id', String(out[0].id))
    return out
  } catch (e) {
    span.recordException(e as Error)
    span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error)?.message })
    throw e
  } finally {
    span.end()
  }
}

/** True when the app registered a tracer provider (an SDK): then spans may record. @internal */
export function tracing(): boolean {
  const p = trace.getTracerProvider()
  return p instanceof ProxyTracerProvider
    ? p.getDelegateTracer(TELEMETRY_SCOPE) !== undefined
    : true
}

/**
 * The trace context a message carries (its enqueuer's span, from the headers stored with it), or
 * the root context. Reads the headers only when an SDK is registered (one point read). @internal
 */
export async function messageContext(store: Store, msg: QueueMessage<unknown>): Promise<Context> {
  if (!store.messages.headers || !tracing()) return ROOT_CONTEXT
  try {
    const headers = (await store.messages.headers([msg.id])).get(msg.id)
    return headers ? propagation.extract(ROOT_CONTEXT, headers, getter) : ROOT_CONTEXT
  } catch {
    return ROOT_CONTEXT // telemetry never fails a delivery
  }
}

/** What {@link instrumentHandler} keeps per message for the settle span. */
interface Processing {
  readonly span: Span
  readonly endedAt: number
}

/** The process span and handler end of messages whose settle is still to come. */
const processing = new WeakMap<object, Processing>()

/**
 * Wraps a worker's handler: each message runs inside a CONSUMER span `process <queue>` whose
 * parent is the enqueuer's span (from the message's headers), so spans the handler starts are in
 * the same trace; records the handler duration and the reclaimed counter. The returned value (or
 * throw) is the handler's. @internal
 */
export function instrumentHandler<M extends QueueMessage<unknown>, C>(
  store: Store,
  queue: string,
  handler: (msg: M, ctx: C) => unknown,
): (msg: M, ctx: C) => Promise<unknown> {
  return async (msg, ctx) => {
    const i = instruments()
    const attrs: Attributes = { 'messaging.destination.name': queue }
    if (msg.attempts > 1 && msg.lastError === null) i.reclaimed.add(1, attrs)
    const span = tracer.startSpan(
      `process ${queue}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': SYSTEM,
          'messaging.destination.name': queue,
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.message.id': String(msg.id),
          'messaging.message.delivery_attempt': msg.attempts,
        },
      },
      await messageContext(store, msg),
    )
    const recording = span.isRecording()
    const t0 = performance.now()
    let outcome = 'success'
    try {
      return await context.with(trace.setSpan(context.active(), span), () => handler(msg, ctx))
    } catch (e) {
      outcome = 'error'
      span.recordException(e as Error)
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error)?.message })
      throw e
    } finally {
      const t1 = performance.now()
      i.handlerDuration.record((t1 - t0) / 1000, { ...attrs, 'pgqrs.outcome': outcome })
      span.end()
      if (recording) processing.set(msg, { span, endedAt: Date.now() })
    }
  }
}

/** How a message's delivery ended, as the worker's events tell it. @internal */
export type SettleOutcome = 'archived' | 'retried' | 'dead' | 'lost'

/**
 * Records how a message's delivery settled: the counters, and a `settle <queue>` span (child of its
 * process span) from the handler's end to now, which covers the settle statement (batched with the
 * next claim when the worker can). @internal
 */
export function recordSettle(queue: string, msg: object, outcome: SettleOutcome): void {
  const i = instruments()
  const attrs: Attributes = { 'messaging.destination.name': queue }
  if (outcome === 'archived') i.handled.add(1, attrs)
  else if (outcome === 'retried') i.failed.add(1, attrs)
  else if (outcome === 'dead') {
    i.failed.add(1, attrs)
    i.dead.add(1, attrs)
  }
  const p = processing.get(msg)
  if (!p) return
  processing.delete(msg)
  const span = tracer.startSpan(
    `settle ${queue}`,
    {
      kind: SpanKind.CONSUMER,
      startTime: p.endedAt,
      attributes: {
        'messaging.system': SYSTEM,
        'messaging.destination.name': queue,
        'messaging.operation.type': 'settle',
        'messaging.operation.name':
          outcome === 'archived' ? 'archive' : outcome === 'lost' ? 'lease_lost' : 'fail',
        'pgqrs.outcome': outcome,
      },
    },
    trace.setSpan(ROOT_CONTEXT, p.span),
  )
  if (outcome === 'lost') span.setStatus({ code: SpanStatusCode.ERROR, message: 'lease lost' })
  span.end()
}

/** A worker's events, as far as {@link attachWorkerTelemetry} listens to them. */
interface WorkerEvents {
  on(event: string, listener: (msg: QueueMessage<unknown>, ...rest: unknown[]) => void): unknown
}

/** Feeds a worker's settle events to {@link recordSettle} (each message names its queue). @internal */
export function attachWorkerTelemetry(worker: WorkerEvents): void {
  worker.on('message:done', (msg) => recordSettle(msg.queue, msg, 'archived'))
  worker.on('message:failed', (msg) => recordSettle(msg.queue, msg, 'retried'))
  worker.on('message:dead', (msg) => recordSettle(msg.queue, msg, 'dead'))
  worker.on('lease:lost', (msg) => recordSettle(msg.queue, msg, 'lost'))
}

/** Options of {@link observeQueues}. */
export interface ObserveQueuesOptions {
  /** At most this many queues (by name) are reported; default 1000. */
  readonly maxQueues?: number
}

/**
 * Registers the observable gauges `pgqrs.queue.depth` (messages by state: pending, leased,
 * delayed, dead) and `pgqrs.queue.oldest_pending_age` (s) of `store` with the global meter
 * provider: at each collection, one `queues.allMetrics()` page per 1000 queues (counts, not a scan
 * of the archive). Call it in one process (the gauges are the same from every process). Returns a
 * function that unregisters them.
 *
 * @example
 * ```ts
 * const stop = observeQueues(store) // with an OpenTelemetry SDK registered
 * ```
 */
export function observeQueues(store: Store, options: ObserveQueuesOptions = {}): () => void {
  const maxQueues = options.maxQueues ?? 1000
  const meter = metrics.getMeter(TELEMETRY_SCOPE)
  const depth = meter.createObservableGauge('pgqrs.queue.depth', {
    description: 'Messages of a queue by state (pending, leased, delayed, dead)',
    unit: '{message}',
  })
  const age = meter.createObservableGauge('pgqrs.queue.oldest_pending_age', {
    description: 'Age of the oldest message that is visible now and not leased (0 when none is)',
    unit: 's',
  })
  const callback = async (result: {
    observe(o: typeof depth | typeof age, value: number, attrs: Attributes): void
  }) => {
    const all = await listAll(
      (page) => store.queues.allMetrics(page),
      (m) => m.name,
    )
    for (const m of all.slice(0, maxQueues)) {
      const q = { 'messaging.system': SYSTEM, 'messaging.destination.name': m.name }
      for (const state of ['pending', 'leased', 'delayed', 'dead'] as const)
        result.observe(depth, m[state], { ...q, 'pgqrs.message.state': state })
      result.observe(age, (m.oldestPendingAgeMs ?? 0) / 1000, q)
    }
  }
  meter.addBatchObservableCallback(callback, [depth, age])
  return () => meter.removeBatchObservableCallback(callback, [depth, age])
}
