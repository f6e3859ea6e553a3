/**
 * Forks the suite's child scripts (TypeScript run by Node's type stripping) and keeps every IPC
 * message they send, with the time it arrived.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** A child script in src/children/. */
export type ChildScript = 'worker' | 'contention'

export interface Received<M> {
  readonly at: number
  readonly message: M
}

export interface ChildHandle<M extends { t: string }> {
  readonly name: string
  readonly process: ChildProcess
  readonly pid: number
  /** Every message received so far, in order. */
  readonly inbox: Received<M>[]
  /** Calls `fn` for each new message (and returns an unsubscribe function). */
  onMessage(fn: (m: M, at: number) => void): () => void
  /** Resolves with the first message (from now or already received) matching `pred`. */
  waitFor<T extends M>(pred: (m: M) => m is T, timeoutMs?: number): Promise<T>
  waitFor(pred: (m: M) => boolean, timeoutMs?: number): Promise<M>
  send(message: object): void
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly alive: boolean
  /** SIGKILL. */
  kill(): void
  /** SIGSTOP / SIGCONT. */
  pause(): void
  resume(): void
}

function scriptPath(script: ChildScript): string {
  return fileURLToPath(new URL(`./children/${script}.ts`, import.meta.url))
}

export function forkChild<M extends { t: string }>(
  script: ChildScript,
  name: string,
  args: unknown,
  options: { silent?: boolean } = {},
): ChildHandle<M> {
  const child = fork(scriptPath(script), [JSON.stringify(args)], {
    execArgv: ['--disable-warning=ExperimentalWarning'],
    stdio: ['ignore', options.silent ? 'ignore' : 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  })
  const inbox: Received<M>[] = []
  const listeners = new Set<(m: M, at: number) => void>()
  let exitedFlag = false
  child.on('message', (message: M) => {
    const at = Date.now()
    inbox.push({ at, message })
    for (const fn of listeners) fn(message, at)
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      exitedFlag = true
      resolve({ code, signal })
    })
  })
  child.on('error', () => {})
  const onMessage = (fn: (m: M, at: number) => void) => {
    listeners.add(fn)
    return () => {
      listeners.delete(fn)
    }
  }
  const waitFor = (pred: (m: M) => boolean, timeoutMs = 30_000) =>
    new Promise<M>((resolve, reject) => {
      const found = inbox.find((r) => pred(r.message))
      if (found) {
        resolve(found.message)
        return
      }
      const timer = setTimeout(() => {
        off()
        reject(new Error(`${name}: no matching message within ${timeoutMs} ms`))
      }, timeoutMs)
      const off = onMessage((m) => {
        if (pred(m)) {
          clearTimeout(timer)
          off()
          resolve(m)
        }
      })
      void exited.then(({ code, signal }) => {
        clearTimeout(timer)
        off()
        const crash = inbox.find((r) => r.message.t === 'crash')?.message as
          | { error?: { name: string; message: string; stack?: string } }
          | undefined
        reject(
          new Error(
            `${name} exited (code ${code}, signal ${signal}) before the expected message${
              crash?.error
                ? `: ${crash.error.name}: ${crash.error.message}\n${crash.error.stack}`
                : ''
            }`,
          ),
        )
      })
    })
  return {
    name,
    process: child,
    pid: child.pid ?? -1,
    inbox,
    onMessage,
    waitFor: waitFor as ChildHandle<M>['waitFor'],
    send(message) {
      if (child.connected) child.send(message)
    },
    exited,
    get alive() {
      return !exitedFlag
    },
    kill() {
      if (!exitedFlag) child.kill('SIGKILL')
    },
    pause() {
      if (!exitedFlag) child.kill('SIGSTOP')
    },
    resume() {
      if (!exitedFlag) child.kill('SIGCONT')
    },
  }
}

/** Stops a child gracefully (`stop` message), SIGKILLing it after `timeoutMs`. */
export async function stopChild(
  child: ChildHandle<{ t: string }>,
  timeoutMs = 15_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }> {
  if (!child.alive) return { ...(await child.exited), forced: false }
  child.resume()
  child.send({ t: 'stop' })
  let forced = false
  const timer = setTimeout(() => {
    forced = true
    child.kill()
  }, timeoutMs)
  const r = await child.exited
  clearTimeout(timer)
  return { ...r, forced }
}
