/**
 * A workflow worker process forked by the demo. It connects on its own (DSN and config from the
 * parent), runs `demo.place_order` runs until SIGTERM, then stops gracefully and exits 0.
 * The parent SIGKILLs the first one of these in the middle of a run.
 */
import * as pgqrs from 'pgqrs'
import { orderWorkflow } from './order-workflow.ts'
import { paint, say } from './output.ts'

interface ChildOptions {
  readonly label: string
  readonly dsn: string
  readonly config: pgqrs.PgqrsConfig
  readonly logFile: string
  readonly stepMs: number
  readonly leaseMs: number
}

const options = JSON.parse(process.env.PGQRS_DEMO_CHILD ?? 'null') as ChildOptions | null
if (!options) throw new Error('workflow-child.ts is started by the demo (PGQRS_DEMO_CHILD missing)')

const prefix = paint('cyan', `  [worker ${options.label} pid ${process.pid}]`)
const print = (line: string) => say(`${prefix} ${line}`)

const store = await pgqrs.connect(options.dsn, options.config)
const runner = pgqrs.workflowWorker(
  store,
  [orderWorkflow({ logFile: options.logFile, stepMs: options.stepMs, print })],
  // A short lease: when this process dies, its run comes back to another worker within leaseMs.
  {
    name: `demo-worker-${options.label}-${process.pid}`,
    leaseMs: options.leaseMs,
    pollIntervalMs: 100,
  },
)
await runner.start()
print('polling for runs')
process.send?.({ type: 'ready' })

process.once('SIGTERM', async () => {
  await runner.stop({ graceMs: 5_000 })
  await store.close()
  print('stopped gracefully (SIGTERM)')
  process.exit(0)
})
