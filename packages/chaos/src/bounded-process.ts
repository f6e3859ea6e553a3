/**
 * Start-up steps that fail fast. Every external program the suite starts (initdb, postgres,
 * pgbouncer) goes through these helpers, so a step that cannot run — a binary the user may not
 * execute, a port in use, a program that never becomes ready — rejects within its bound with the
 * program's own words (spawn errno, exit status, the tail of its stderr), never hangs the suite.
 */
import { type ChildProcess, spawn } from 'node:child_process'

/** The last `max` characters a process wrote, for error messages. */
export class OutputTail {
  #text = ''
  readonly #max: number

  constructor(max = 4_000) {
    this.#max = max
  }

  /** Appends a chunk, keeping only the tail. */
  push(chunk: Buffer | string): void {
    this.#text = (this.#text + String(chunk)).slice(-this.#max)
  }

  /** The tail, trimmed; `(no output)` when there is none. */
  text(): string {
    return this.#text.trim() || '(no output)'
  }
}

/** Who a program runs as (both undefined: this process's own user). */
export interface RunAs {
  readonly uid?: number
  readonly gid?: number
}

/** Options of {@link runBounded}. */
export interface RunBoundedOptions extends RunAs {
  /** Kill the program (SIGKILL) and reject when it has not exited by then. */
  readonly timeoutMs: number
  readonly env?: NodeJS.ProcessEnv
}

/** `exited with code N` or `was killed by SIGNAL`. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`
}

/**
 * Spawns `file args` and collects its stdout and stderr. The output is piped and always drained
 * (a full pipe would block the program).
 */
export function spawnCollected(
  file: string,
  args: readonly string[],
  options: RunAs & { env?: NodeJS.ProcessEnv },
): { child: ChildProcess; output: OutputTail } {
  const child = spawn(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  })
  const output = new OutputTail()
  child.stdout?.on('data', (d: Buffer) => output.push(d))
  child.stderr?.on('data', (d: Buffer) => output.push(d))
  return { child, output }
}

/**
 * Runs `file args` to completion within `timeoutMs`. Resolves with its output when it exits with
 * code 0; rejects at once when it cannot be spawned (the errno names the cause, e.g. `EACCES`) or
 * exits otherwise, and after `timeoutMs` when it is still running (it is then SIGKILLed). The
 * error message starts with `step` and ends with the tail of the program's output.
 */
export function runBounded(
  step: string,
  file: string,
  args: readonly string[],
  options: RunBoundedOptions,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const { child, output } = spawnCollected(file, args, options)
    const who = options.uid === undefined ? '' : ` as uid ${options.uid}`
    let settled = false
    const settle = (err: Error | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (err) reject(err)
      else resolve(output.text())
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      settle(
        new Error(
          `${step}: ${file} did not finish within ${options.timeoutMs} ms${who} (killed); its output: ${output.text()}`,
        ),
      )
    }, options.timeoutMs)
    child.once('error', (e: NodeJS.ErrnoException) =>
      settle(new Error(`${step}: cannot run ${file}${who}: ${e.code ?? e.message}`, { cause: e })),
    )
    child.once('close', (code, signal) =>
      code === 0
        ? settle(null)
        : settle(
            new Error(
              `${step}: ${file}${who} ${describeExit(code, signal)}; its output: ${output.text()}`,
            ),
          ),
    )
  })
}

/**
 * Resolves when `child` exits (at once if it already has), or after `timeoutMs`, when it is
 * SIGKILLed first: a program that ignores its stop signal cannot hang the caller.
 */
export async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  await exited
  clearTimeout(timer)
}
