// The OpenTelemetry SDK as a test (or an app) sets it up: in-memory span exporter, a metric reader
// collected on demand, async-hooks context and the W3C propagator, all registered globally.
import { context, metrics, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'

/** A metric reader that collects when asked (no timer). */
export class OnDemandReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/**
 * The tracer provider of this process, registered once: a tracer the API hands out (pgqrs gets
 * its tracer when its module loads) keeps the first SDK tracer it delegated to, so a provider
 * registered by a later test would never see pgqrs's spans. Each test resets the exporter instead.
 */
let tracing: {
  readonly provider: BasicTracerProvider
  readonly spans: InMemorySpanExporter
} | null = null

/**
 * Registers the SDK globally: the process's tracer provider (its in-memory exporter emptied) and
 * a fresh meter provider; `disable()` empties the exporter and unregisters the meter provider.
 */
export function registerSdk() {
  if (!tracing) {
    const spans = new InMemorySpanExporter()
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    trace.setGlobalTracerProvider(provider)
    tracing = { provider, spans }
  }
  const { spans } = tracing
  spans.reset()
  const reader = new OnDemandReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  metrics.setGlobalMeterProvider(meterProvider)
  return {
    spans,
    reader,
    async disable() {
      spans.reset()
      await meterProvider.shutdown()
      metrics.disable()
    },
  }
}

/** A finished span as plain JSON (what the child process prints). */
export interface SpanJson {
  readonly name: string
  readonly kind: number
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly attributes: Record<string, unknown>
}

/** The exporter's finished spans as {@link SpanJson}. */
export function spansJson(exporter: InMemorySpanExporter): SpanJson[] {
  return exporter.getFinishedSpans().map((s) => ({
    name: s.name,
    kind: s.kind,
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId,
    attributes: { ...s.attributes },
  }))
}
