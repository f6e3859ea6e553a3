/**
 * Child process of the schedule tests: runs a `worker()` over an idle queue and the process's
 * `Scheduler` until told to stop, and appends every tick the scheduler fires to `logFile`, one
 * JSON line each (`{ schedule, tick, messageId, missed }`). Speaks the worker child protocol
 * (./protocol.ts): `started`, then `stopped` after `stop`.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { connect, type Store } from '@pgqrs/core'
import { Scheduler, worker } from '@pgqrs/queue'
import type { WorkerChildArgs, WorkerChildMessage, WorkerParentMessage } from './protocol.js'

function send(message: WorkerChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error('scheduler child: started without an IPC channel'))
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
  let fired = 0
  // The process's scheduler, as a worker starts it, but created here so that its `tick` listener
  // is attached before its first poll (a worker's scheduler polls as soon as the worker starts,
  // which would fire the catch-up tick before `w.scheduler` can be listened to).
  const scheduler = new Scheduler(store, { pollIntervalMs: 1_000 })
  const w = worker(store, args.queue, async () => {}, {
    name: args.name,
    pollIntervalMs: args.pollIntervalMs,
    heartbeatIntervalMs: 1_000,
    scheduler: false,
  })
  w.on('error', (e) => {
    if (errors.length < 20) errors.push(e.message)
  })
  const stop = new Promise<void>((resolve) => {
    process.on('message', (m: WorkerParentMessage) => {
      if (m?.type === 'stop') resolve()
    })
  })
  scheduler.on('tick', (schedule, tick, messageId, missed) => {
    fired++
    writeSync(fd, `${JSON.stringify({ schedule, tick: tick.toISOString(), messageId, missed })}\n`)
  })
  scheduler.on('error', (e) => {
    if (errors.length < 20) errors.push(`scheduler: ${e.message}`)
  })
  await w.start()
  scheduler.start()
  await send({ type: 'started', workerId: w.record!.id })
  await stop
  await scheduler.stop()
  await w.stop({ graceMs: 5_000 })
  closeSync(fd)
  await send({ type: 'stopped', handled: fired, errors })
  await store.close()
  process.disconnect?.()
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error))
  await send({ type: 'error', message: `${e.name}: ${e.message}`, stack: e.stack }).catch(() => {})
  await store?.close().catch(() => {})
  process.exit(1)
}
