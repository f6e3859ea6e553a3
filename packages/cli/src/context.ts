import { configFromEnv, type Logger, type PgqrsConfig, type Store } from '@pgqrs/core'
import type { Command } from 'commander'
import type { CliIo } from './io.js'
import { openStore } from './open-store.js'
import { type Format, type Output, render } from './output.js'
import { type Progress, startProgress } from './progress.js'

/** The options every command accepts (declared on the program). */
export interface GlobalOptions {
  readonly dsn?: string
  readonly schema?: string
  readonly format: Format
}

/** What command actions share: the I/O and the way to reach the store. */
export interface CliContext {
  readonly io: CliIo
  /**
   * Opens the store from `--dsn`/`--schema` (or `PGQRS_*`), shows a spinner labelled `label` while
   * the work is slow, runs `fn`, closes the store (also when `fn` throws) and prints its output in
   * `--format`. A long-running command stops the spinner itself once it is up (`progress.stop()`).
   */
  withStore(
    cmd: Command,
    label: string,
    fn: (store: Store, progress: Progress) => Promise<Output>,
  ): Promise<void>
  /** The exit code of a command that ran to the end (1 when its output reports a failure). */
  readonly exitCode: number
  /**
   * Resolves when a long-running command should end: `io.signal` aborts, or (without one) the
   * process gets SIGINT or SIGTERM, which is listened for only until then.
   */
  untilStopped(): Promise<void>
}

/** Warnings from the store go to stderr, one line each; debug and info are dropped. */
function stderrLogger(io: CliIo): Logger {
  const noop = () => {}
  const line = (message: string) => io.stderr(`pgqrs: ${message.replace(/\s*\n\s*/g, ' ')}\n`)
  return { debug: noop, info: noop, warn: (m) => line(`warning: ${m}`), error: line }
}

/** See {@link CliContext.untilStopped}. */
function untilStopped(io: CliIo): Promise<void> {
  const signal = io.signal
  if (signal) {
    return signal.aborted
      ? Promise.resolve()
      : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
  }
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

/** Creates the context of one `run()`. */
export function createContext(io: CliIo): CliContext {
  let exitCode = 0
  return {
    io,
    get exitCode() {
      return exitCode
    },
    untilStopped: () => untilStopped(io),
    async withStore(cmd, label, fn) {
      const globals = cmd.optsWithGlobals<GlobalOptions>()
      const env = configFromEnv(io.env ?? process.env)
      const dsn = globals.dsn ?? env.dsn
      if (!dsn) {
        return cmd.error('error: no database: pass --dsn <url> or set PGQRS_DSN', {
          exitCode: 2,
          code: 'pgqrs.missingDsn',
        })
      }
      const config: PgqrsConfig = {
        ...env.config,
        ...(globals.schema === undefined ? {} : { schema: globals.schema }),
        logger: stderrLogger(io),
      }
      const progress = startProgress(io.stderr, label, { enabled: io.stderrIsTTY === true })
      let output: Output
      try {
        const store = await openStore(dsn, config)
        try {
          output = await fn(store, progress)
        } catch (e) {
          await store.close().catch(() => {})
          throw e
        }
        await store.close()
      } finally {
        progress.stop()
      }
      if (!output.written) io.stdout(render(output, globals.format))
      if (output.failure !== undefined) {
        io.stderr(`pgqrs: ${output.failure}\n`)
        exitCode = 1
      }
    },
  }
}
