// The handler's process of the cross-process trace test: registers the SDK, runs a worker on
// PGQRS_QUEUE (in schema PGQRS_SCHEMA on Postgres) until it handled one message (the handler
// starts a span of its own), then prints the spans it exported as one JSON line and exits.
import { trace } from '@opentelemetry/api'
import { connect } from '@pgqrs/core'
import { worker } from '@pgqrs/queue'
import { registerSdk, spansJson } from './sdk.ts'

const sdk = registerSdk()
const schema = process.env.PGQRS_SCHEMA
const store = await connect(process.env.PGQRS_DSN!, {
  logger: false,
  ...(schema ? { schema } : {}),
})
let done!: () => void
const handled = new Promise<void>((r) => {
  done = r
})
const w = worker(
  store,
  process.env.PGQRS_QUEUE!,
  async () => {
    await trace.getTracer('app').startActiveSpan('send email', async (span) => {
      span.end()
    })
  },
  { pollIntervalMs: 50 },
)
w.on('message:done', () => done())
await w.start()
await handled
await w.stop()
await store.close()
console.log(JSON.stringify(spansJson(sdk.spans)))
await sdk.disable()
