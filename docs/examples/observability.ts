// OpenTelemetry: pgqrs emits spans and metrics through @opentelemetry/api; this app registers the
// SDK with console exporters, so every span and metric is printed.
// expect: /name: 'enqueue emails'/
// expect: /name: 'process emails'/
// expect: /name: 'settle emails'/
// expect: /pgqrs.messages.handled/
// expect: /name: 'workflow onboard'/
// expect: /name: 'step create_account'/
// expect: /pgqrs.workflow.runs/
// expect: handled 1 message in one trace
// expect: run onboard SUCCESS with 2 steps
import { tmpdir } from 'node:os'
import { context, metrics, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { observeQueues, worker } from '@pgqrs/queue'
import { defineWorkflow, observeRuns, workflowWorker } from '@pgqrs/workflow'
import * as pgqrs from 'pgqrs'

// 1. The SDK (in an app: @opentelemetry/sdk-node with an OTLP exporter does the same).
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
propagation.setGlobalPropagator(new W3CTraceContextPropagator())
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
})
trace.setGlobalTracerProvider(tracerProvider)
const reader = new PeriodicExportingMetricReader({
  exporter: new ConsoleMetricExporter(),
  exportIntervalMillis: 60_000,
})
const meterProvider = new MeterProvider({ readers: [reader] })
metrics.setGlobalMeterProvider(meterProvider)

// 2. pgqrs as usual: spans and counters come by themselves; queue gauges with observeQueues.
const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/otel-${process.pid}.db`,
)
await pgqrs.admin(store).install()
await store.queue('emails')
const stopGauges = observeQueues(store)
const traces = new Set<string>()
const w = worker(store, 'emails', async () => {
  traces.add(trace.getActiveSpan()?.spanContext().traceId ?? 'none')
})
const handled = new Promise<void>((resolve) => w.once('message:done', () => resolve()))
await w.start()
await trace.getTracer('app').startActiveSpan('POST /signup', async (span) => {
  traces.add(span.spanContext().traceId)
  await (await store.producer('emails')).enqueue({ to: 'a@b.c' })
  span.end()
})
await handled
await w.stop()

// 3. Workflows: a span per delivery of a run, a span per step; runs by status with observeRuns.
const stopRunGauge = observeRuns(store)
const onboard = defineWorkflow({
  name: 'onboard',
  async run(ctx, input: { email: string }) {
    const account = await ctx.step('create_account', () => ({ id: 7, email: input.email }))
    return ctx.step('send_welcome', () => `welcome ${account.email}`)
  },
})
const runner = await workflowWorker(store, [onboard]).start()
const run = await onboard.start(store, { email: 'a@b.c' })
await run.result({ timeoutMs: 30_000 })
await runner.stop()
const steps = await store.steps.list(run.id)
const { status } = await run.status()

// 4. Flush on the way out.
await reader.forceFlush()
stopGauges()
stopRunGauge()
await tracerProvider.shutdown()
await meterProvider.shutdown()
await store.close()
console.log(`handled 1 message in ${traces.size === 1 ? 'one trace' : `${traces.size} traces`}`)
console.log(`run onboard ${status} with ${steps.length} steps`)
