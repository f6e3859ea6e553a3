import { type ChildProcess, fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { PgqrsConfig } from '@pgqrs/core'
import type { ChildArgs, ChildMessage } from './children/protocol.js'

/** The child scripts in `dist/children/`. */
export type ChildScript = 'migrate' | 'drain' | 'hold'

/** How a child process ended. */
export interface ChildExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** A forked child with its IPC messages. */
export interface ChildHandle {
  readonly process: ChildProcess
  /** Resolves with the next message of `type` (an `error` message from the child rejects). */
  next<T extends ChildMessage['type']>(
    type: T,
    timeoutMs?: number,
  ): Promise<Extract<ChildMessage, { type: T }>>
  /** Tells the child to start its job. */
  go(): void
  /** Resolves when the process has exited and its IPC channel and stdio are closed. */
  readonly exited: Promise<ChildExit>
  /** SIGKILLs the process if it is still running. */
  kill(): void
}

function scriptPath(script: ChildScript): string {
  const path = fileURLToPath(new URL(`./children/${script}.js`, import.meta.url))
  if (existsSync(path)) return path
  // Running from src through a transformer: use the compiled child next to it.
  const built = path.replace(/[/\\]src[/\\]children[/\\]/, '/dist/children/')
  if (existsSync(built)) return built
  throw new Error(`store-conformance: child script ${path} is missing; build the package first`)
}

/**
 * A config that survives JSON: the logger (functions) is replaced by `false`, so children log nothing.
 */
export function childConfig(config: PgqrsConfig): PgqrsConfig {
  const { logger: _logger, ...rest } = config
  return { ...(JSON.parse(JSON.stringify(rest)) as PgqrsConfig), logger: false }
}

/**
 * Forks `dist/children/<script>.js` with `args` as its JSON argument (plain Node, no test loader)
 * and collects its IPC messages.
 */
export function forkChild(script: ChildScript, args: ChildArgs): ChildHandle {
  const child = fork(
    scriptPath(script),
    [JSON.stringify({ ...args, config: childConfig(args.config) })],
    {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    },
  )
  const inbox: ChildMessage[] = []
  const waiters = new Set<() => void>()
  let failure: Error | undefined
  child.on('message', (message: ChildMessage) => {
    inbox.push(message)
    for (const wake of waiters) wake()
  })
  const exited = new Promise<ChildExit>((resolve) => {
    child.on('close', (code, signal) => {
      failure ??= new Error(`child ${script} exited (code ${code}, signal ${signal})`)
      for (const wake of waiters) wake()
      resolve({ code, signal })
    })
  })
  child.on('error', (error) => {
    failure = error
    for (const wake of waiters) wake()
  })
  const next = <T extends ChildMessage['type']>(type: T, timeoutMs = 30_000) =>
    new Promise<Extract<ChildMessage, { type: T }>>((resolve, reject) => {
      const check = () => {
        const errorIndex = inbox.findIndex((m) => m.type === 'error')
        if (errorIndex >= 0) {
          const m = inbox[errorIndex] as Extract<ChildMessage, { type: 'error' }>
          done()
          reject(new Error(`child ${script} failed: ${m.message}\n${m.stack ?? ''}`))
          return
        }
        const index = inbox.findIndex((m) => m.type === type)
        if (index >= 0) {
          const [m] = inbox.splice(index, 1)
          done()
          resolve(m as Extract<ChildMessage, { type: T }>)
          return
        }
        if (failure) {
          done()
          reject(failure)
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`child ${script}: no '${type}' message within ${timeoutMs} ms`))
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  return {
    process: child,
    next,
    go: () => {
      child.send({ type: 'go' })
    },
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
  }
}
