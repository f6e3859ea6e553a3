import { connect, type Store } from '@pgqrs/core'
import type { ChildArgs, ChildMessage, ParentMessage } from './protocol.js'

/** Sends one message to the parent and resolves once it is written. */
export function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error('store-conformance child: started without an IPC channel'))
      return
    }
    process.send(message, (error: Error | null) => (error ? reject(error) : resolve()))
  })
}

function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (message: ParentMessage) => {
      if (message?.type === 'go') {
        process.off('message', onMessage)
        resolve()
      }
    }
    process.on('message', onMessage)
  })
}

/**
 * Runs a child job: parses the JSON argument, connects, reports `ready`, waits for `go`, runs
 * `job` and closes the store. Any error is reported as `{ type: 'error' }` and exits with code 1.
 */
export async function runChild(
  job: (store: Store, args: ChildArgs) => Promise<void>,
): Promise<void> {
  try {
    const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs
    const store = await connect(args.dsn, args.config)
    const go = waitForGo()
    await send({ type: 'ready' })
    await go
    try {
      await job(store, args)
    } finally {
      await store.close()
    }
    process.disconnect?.()
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error))
    await send({ type: 'error', message: `${e.name}: ${e.message}`, stack: e.stack }).catch(
      () => {},
    )
    process.exit(1)
  }
}
