/**
 * Child process of the concurrency-limit tests: runs a `worker()` over one queue whose handler
 * holds each message `holdMs` and appends `{ id, key, start, end }` (epoch ms; the payload's key)
 * to `logFile` when it ends, before the settle. Speaks the worker child protocol (./protocol.ts).
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { connect, type Store } from '@pgqrs/core'
import { worker } from '@pgqrs/queue'
import type { WorkerChildArgs, WorkerChildMessage, WorkerParentMessage } from './protocol.js'

function send(message: WorkerChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error('limits child: started without an IPC channel'))
      return
    }
    process.send(message, (error: Error | null) => (error ? reject(error) : resolve()))
  })
}

let store: Store | undefined
try {
  const args = JSON.parse(process.argv[2] ?? '{}') as WorkerChildArgs
  store = await connect(args.dsn, args.config)
  const fd = openSync(args.logFile, 'a')
  const errors: string[] = []
  let handled = 0
  const w = worker<{ key: string | null }>(
    store,
    args.queue,
    async (msg) => {
      const start = Date.now()
      await new Promise((resolve) => setTimeout(resolve, args.holdMs ?? 20))
      handled++
      const line = { id: msg.id, key: msg.payload.key, start, end: Date.now() }
      writeSync(fd, `${JSON.stringify(line)}\n`)
    },
    {
      name: args.name,
      concurrency: args.concurrency,
      batchSize: args.batchSize,
      leaseMs: args.leaseMs,
      pollIntervalMs: args.pollIntervalMs,
      heartbeatIntervalMs: 1_000,
      scheduler: false,
    },
  )
  w.on('error', (e) => {
    if (errors.length < 20) errors.push(e.message)
  })
  const stop = new Promise<void>((resolve) => {
    process.on('message', (m: WorkerParentMessage) => {
      if (m?.type === 'stop') resolve()
    })
  })
  await w.start()
  await send({ type: 'started', workerId: w.record!.id })
  await stop
  await w.stop({ graceMs: 5_000 })
  closeSync(fd)
  await send({ type: 'stopped', handled, errors })
  await store.close()
  process.disconnect?.()
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error))
  await send({ type: 'error', message: `${e.name}: ${e.message}`, stack: e.stack }).catch(() => {})
  await store?.close().catch(() => {})
  process.exit(1)
}
