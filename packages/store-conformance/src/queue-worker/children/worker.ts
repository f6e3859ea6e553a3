/**
 * Child process of the queue-worker multi-process tests: runs `worker()` from `@pgqrs/queue` over
 * one queue until told to stop. See ./protocol.ts.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { connect, type Store } from '@pgqrs/core'
import { worker } from '@pgqrs/queue'
import type { WorkerChildArgs, WorkerChildMessage, WorkerParentMessage } from './protocol.js'

function send(message: WorkerChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error('queue-worker child: started without an IPC channel'))
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
  const w = worker<{ n: number }>(
    store,
    args.queue,
    async (msg) => {
      // Written before the work, synchronously: a SIGKILL cannot lose the line.
      writeSync(fd, `${msg.id}\n`)
      handled++
      await new Promise((resolve) => setImmediate(resolve))
    },
    {
      name: args.name,
      concurrency: args.concurrency,
      batchSize: args.batchSize,
      leaseMs: args.leaseMs,
      pollIntervalMs: args.pollIntervalMs,
      heartbeatIntervalMs: 1_000,
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
