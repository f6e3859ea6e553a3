// OpenTelemetry for the workflow layer, through `@opentelemetry/api` only (no-ops without an SDK),
// wrapped around the engine rather than woven into it: a span per delivery of a run, a child span
// per step executed, a zero-length span for a step replayed from its stored result, and sleeps and
// waits as events of the run's span. Span and instrument names share the queue layer's scope.
import {
  type Attributes,
  type Context,
  context,
  type Counter,
  type Histogram,
  type MeterProvider,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import type { QueueMessage, RunRecord, RunStatus, Store } from '@pgqrs/core'
import { TELEMETRY_SCOPE } from '@pgqrs/queue'
import { Suspend } from './errors.js'
import type { StepFunction } from './run.js'

const tracer = trace.getTracer(TELEMETRY_SCOPE)

interface Instruments {
  readonly started: Counter
  readonly ended: Counter
  readonly stepDuration: Histogram
}

// per meter provider, as in the queue layer: instruments made before the app registered its SDK
// would stay no-ops
const byProvider = new WeakMap<MeterProvider, Instruments>()

function instruments(): Instruments {
  const provider = metrics.getMeterProvider()
  let i = byProvider.get(provider)
  if (!i) {
    const meter = provider.getMeter(TELEMETRY_SCOPE)
    i = {
      started: meter.createCounter('pgqrs.runs.started', {
        description: 'Runs whose first delivery began (QUEUED to RUNNING)',
        unit: '{run}',
      }),
      ended: meter.createCounter('pgqrs.runs.ended', {
        description: 'Runs that ended (SUCCESS, ERROR or CANCELLED) in a delivery',
        unit: '{run}',
      }),
      stepDuration: meter.createHistogram('pgqrs.step.duration', {
        description:
          'Time a step execution took, from the step call to its recorded result (replays not counted)',
        unit: 's',
      }),
    }
    byProvider.set(provider, i)
  }
  return i
}

/** Epoch ms with sub-ms precision (span times and durations from one clock). */
const clock = () => performance.timeOrigin + performance.now()

const TERMINAL: readonly string[] = ['SUCCESS', 'ERROR', 'CANCELLED']

/**
 * The telemetry of one delivery of a workflow run: the span `workflow <name>` (a child of the
 * queue worker's `process <queue>` span when one is active) and its step spans and events.
 * @internal
 */
export class DeliveryTelemetry {
  readonly #span: Span
  readonly #ctx: Context
  readonly #recording: boolean
  #attrs: Attributes

  constructor(msg: QueueMessage) {
    this.#attrs = { 'pgqrs.workflow.name': msg.queue }
    this.#span = tracer.startSpan(`workflow ${msg.queue}`, {
      attributes: {
        'pgqrs.message.id': String(msg.id),
        'messaging.destination.name': msg.queue,
        'pgqrs.run.attempt': Math.max(1, msg.attempts),
      },
    })
    this.#recording = this.#span.isRecording()
    this.#ctx = trace.setSpan(context.active(), this.#span)
  }

  /** Runs `fn` with the run's span active, so spans the body starts are its children. */
  within<T>(fn: () => Promise<T>): Promise<T> {
    return this.#recording ? context.with(this.#ctx, fn) : fn()
  }

  /** The run of this delivery is known: names the span and counts a first start. */
  opened(run: RunRecord): void {
    this.#attrs = { 'pgqrs.workflow.name': run.workflow }
    if (run.status === 'QUEUED') instruments().started.add(1, this.#attrs)
    if (!this.#recording) return
    this.#span.updateName(`workflow ${run.workflow}`)
    this.#span.setAttributes({
      'pgqrs.run.id': String(run.id),
      'pgqrs.workflow.name': run.workflow,
      'pgqrs.workflow.version': run.version,
      'pgqrs.run.status_before': run.status,
    })
  }

  /**
   * A step call: `call(wrapped)` runs the engine's step with `fn` wrapped. When the engine calls
   * it, the execution is a `step <key>` span from the call to the recorded result (and a duration
   * sample); when it does not (the stored result came back), a zero-length span marked
   * `pgqrs.step.replayed`.
   */
  async step<T>(
    key: string,
    name: string,
    fn: StepFunction<T>,
    call: (fn: StepFunction<T>) => Promise<T>,
  ): Promise<T> {
    const t0 = clock()
    let span: Span | null = null
    let thrown: unknown
    let executed = false
    const attributes = { ...this.#attrs, 'pgqrs.step.key': key, 'pgqrs.step.name': name }
    const wrapped: StepFunction<T> = async (tx, stepCtx) => {
      executed = true
      span = tracer.startSpan(
        `step ${key}`,
        { startTime: t0, attributes: { ...attributes, 'pgqrs.step.replayed': false } },
        this.#ctx,
      )
      try {
        return await (this.#recording
          ? context.with(trace.setSpan(this.#ctx, span), () => fn(tx, stepCtx))
          : fn(tx, stepCtx))
      } catch (e) {
        thrown = e
        throw e
      }
    }
    const metric = { ...this.#attrs, 'pgqrs.step.name': name }
    try {
      const out = await call(wrapped)
      const t1 = clock()
      if (executed) {
        instruments().stepDuration.record((t1 - t0) / 1000, {
          ...metric,
          'pgqrs.outcome': 'success',
        })
        ;(span as Span | null)?.end(t1)
      } else if (this.#recording) {
        tracer
          .startSpan(
            `step ${key}`,
            { startTime: t1, attributes: { ...attributes, 'pgqrs.step.replayed': true } },
            this.#ctx,
          )
          .end(t1)
      }
      return out
    } catch (e) {
      if (executed) {
        const t1 = clock()
        const s = span as Span | null
        const error = (thrown ?? e) as Error
        instruments().stepDuration.record((t1 - t0) / 1000, { ...metric, 'pgqrs.outcome': 'error' })
        s?.recordException(error)
        s?.setStatus({ code: SpanStatusCode.ERROR, message: error?.message })
        if (e instanceof Suspend)
          s?.setAttribute('pgqrs.step.retry_at', new Date(e.until).toISOString())
        s?.end(t1)
      }
      throw e
    }
  }

  /** A durable sleep: an event `pgqrs.sleep` on the run's span, saying whether the run sleeps now. */
  async sleep(key: string, ms: number, call: () => Promise<void>): Promise<void> {
    try {
      await call()
      this.#event('pgqrs.sleep', {
        'pgqrs.step.key': key,
        'pgqrs.sleep.ms': ms,
        'pgqrs.sleep.outcome': 'over',
      })
    } catch (e) {
      if (e instanceof Suspend)
        this.#event('pgqrs.sleep', {
          'pgqrs.step.key': key,
          'pgqrs.sleep.ms': ms,
          'pgqrs.sleep.outcome': 'sleeping',
          'pgqrs.wake_at': new Date(e.until).toISOString(),
        })
      throw e
    }
  }

  /** A wait for an event: an event `pgqrs.wait` on the run's span with what the wait got. */
  async wait<T>(
    key: string,
    name: string,
    call: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const attrs = { 'pgqrs.step.key': key, 'pgqrs.event.name': name }
    try {
      const got = await call()
      this.#event('pgqrs.wait', {
        ...attrs,
        'pgqrs.wait.outcome': got === undefined ? 'timed_out' : 'received',
      })
      return got
    } catch (e) {
      if (e instanceof Suspend)
        this.#event('pgqrs.wait', {
          ...attrs,
          'pgqrs.wait.outcome': 'waiting',
          'pgqrs.wake_at': new Date(e.until).toISOString(),
        })
      throw e
    }
  }

  #event(name: string, attributes: Attributes): void {
    if (this.#recording) this.#span.addEvent(name, attributes)
  }

  /**
   * The delivery settled: the run's status after it (`RUNNING` for a step retry, which releases
   * the message), or the error that made the delivery fail (the message comes back). Ends the span.
   */
  ended(status: RunStatus | null, error?: unknown): void {
    if (status !== null && TERMINAL.includes(status))
      instruments().ended.add(1, { ...this.#attrs, 'pgqrs.run.status': status })
    if (!this.#recording) return
    if (status !== null) this.#span.setAttribute('pgqrs.run.status', status)
    if (error !== undefined) {
      this.#span.recordException(error as Error)
      this.#span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message })
    } else if (status === 'ERROR') this.#span.setStatus({ code: SpanStatusCode.ERROR })
    this.#span.end()
  }
}

/**
 * Runs the start of a run of `workflow` (queue `queue`) inside a PRODUCER span `start <workflow>`
 * and gives `start` the headers to store with the run's message: the span's trace context, so that
 * every delivery of the run (its `process`, `workflow` and `step` spans) continues this trace, in
 * any process. Without a recording span (no SDK), `start` gets no headers. @internal
 */
export async function traceStart<R extends { run: { id: number } }>(
  workflow: string,
  queue: string,
  start: (headers: Readonly<Record<string, string>> | undefined) => Promise<R>,
): Promise<R> {
  const span = tracer.startSpan(`start ${workflow}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'pgqrs',
      'messaging.destination.name': queue,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'start',
      'pgqrs.workflow.name': workflow,
    },
  })
  if (!span.isRecording()) {
    span.end()
    return start(undefined)
  }
  const headers: Record<string, string> = {}
  const ctx = trace.setSpan(context.active(), span)
  propagation.inject(ctx, headers)
  try {
    const out = await context.with(ctx, () =>
      start(Object.keys(headers).length > 0 ? headers : undefined),
    )
    span.setAttribute('pgqrs.run.id', String(out.run.id))
    return out
  } catch (e) {
    span.recordException(e as Error)
    span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error)?.message })
    throw e
  } finally {
    span.end()
  }
}

/** Options of {@link observeRuns}. */
export interface ObserveRunsOptions {
  /** At most this many (workflow, status) pairs are reported; default 10 000. */
  readonly maxSeries?: number
}

/**
 * Registers the observable gauge `pgqrs.workflow.runs` (runs by `pgqrs.workflow.name` and
 * `pgqrs.run.status`) of `store` with the global meter provider: at each collection, one
 * statement (`store.runs.counts()`). A store without that optional method reports nothing. Call
 * it in one process (the counts are the same from every process); returns a function that
 * unregisters the gauge.
 *
 * @example
 * ```ts
 * const stop = observeRuns(store) // with an OpenTelemetry SDK registered
 * ```
 */
export function observeRuns(store: Store, options: ObserveRunsOptions = {}): () => void {
  const maxSeries = options.maxSeries ?? 10_000
  const meter = metrics.getMeter(TELEMETRY_SCOPE)
  const gauge = meter.createObservableGauge('pgqrs.workflow.runs', {
    description: 'Workflow runs by workflow and status',
    unit: '{run}',
  })
  const callback = async (result: { observe(value: number, attrs: Attributes): void }) => {
    if (!store.runs.counts) return
    const counts = await store.runs.counts({ limit: maxSeries })
    for (const c of counts)
      result.observe(c.count, { 'pgqrs.workflow.name': c.workflow, 'pgqrs.run.status': c.status })
  }
  gauge.addCallback(callback)
  return () => gauge.removeCallback(callback)
}
