import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A spawned app: its output so far, and a way to wait for a line or for the exit. */
export interface AppProcess {
  readonly child: ChildProcess
  output(): string
  /** Resolves with the first output line matching `re` (rejects after `timeoutMs` or on exit). */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>
  /** Resolves with the exit code and signal. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Runs `node <script> ...args` (Node strips the types) with `env` added to this environment. */
export function startApp(
  script: string,
  env: Record<string, string>,
  args: readonly string[] = [],
): AppProcess {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const waiters = new Set<() => void>()
  const onData = (d: Buffer) => {
    out += d
    for (const w of waiters) w()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const w of waiters) w()
      resolve({ code, signal })
    }),
  )
  return {
    child,
    output: () => out,
    exited: () => exit,
    waitForLine(re, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of out.split('\n')) {
            const m = re.exec(line)
            if (m) return done(() => resolve(m))
          }
          if (child.exitCode !== null || child.signalCode !== null)
            done(() => reject(new Error(`app exited before printing ${re}:\n${out}`)))
        }
        const timer = setTimeout(
          () => done(() => reject(new Error(`no line ${re} within ${timeoutMs} ms:\n${out}`))),
          timeoutMs,
        )
        const done = (fn: () => void) => {
          clearTimeout(timer)
          waiters.delete(check)
          fn()
        }
        waiters.add(check)
        check()
      })
    },
  }
}

/** A fresh temp folder with a SQLite file DSN in it (never `:memory:`), and its removal. */
export function tempSqlite(): { dir: string; dsn: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'pgqrs-app-'))
  return {
    dir,
    dsn: `sqlite://${join(dir, 'app.db')}`,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** Polls `check` until it returns true (or throws the last failure after `timeoutMs`). */
export async function eventually(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
