/** What every forked child of the suite shares: IPC, error reports, crash reports. */
import { PgqrsError } from '@pgqrs/core'
import type { ErrorInfo } from '../protocol.ts'

/** Sends one message to the parent and resolves once it is written to the channel. */
export function send(message: object): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) {
      resolve()
      return
    }
    try {
      process.send(message, undefined, {}, () => resolve())
    } catch {
      resolve()
    }
  })
}

/** A thrown value as an {@link ErrorInfo}. */
export function errorInfo(e: unknown): ErrorInfo {
  const err = e instanceof Error ? e : new Error(String(e))
  const code = (err as { code?: unknown }).code
  return {
    name: err.name,
    code: typeof code === 'string' || typeof code === 'number' ? String(code) : null,
    message: err.message.slice(0, 500),
    typed: PgqrsError.is(err),
    stack: err.stack?.split('\n').slice(0, 8).join('\n'),
  }
}

/** Reports an uncaught exception or unhandled rejection as `crash` and exits with 70. */
export function reportCrashes(): void {
  const crash = (e: unknown) => {
    void send({ t: 'crash', at: Date.now(), error: errorInfo(e) }).finally(() => process.exit(70))
  }
  process.on('uncaughtException', crash)
  process.on('unhandledRejection', crash)
}

/** Resolves when the parent sends a message of type `t`. */
export function when(t: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: { t?: string }) => {
      if (m?.t === t) {
        process.off('message', on)
        resolve()
      }
    }
    process.on('message', on)
  })
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** The JSON argument of the child. */
export function childArgs<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T
}
