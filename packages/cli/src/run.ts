import { terminalSafe } from './table.js'
import { CommanderError } from 'commander'
import { createContext } from './context.js'
import type { CliIo } from './io.js'
import { createProgram } from './program.js'

/** Exit codes of the `pgqrs` command. */
export const EXIT = { ok: 0, error: 1, usage: 2 } as const

/** The message of any thrown value, on one line. */
function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message || error.name : String(error)
  // an error may quote stored text (a worker name, a payload): never let it drive the terminal
  return terminalSafe(message.replace(/\s*[\n\r\t]\s*/g, ' ').trim())
}

/**
 * Runs the `pgqrs` command with `argv` (the arguments after the program name) and returns its exit
 * code: 0 on success; 1 after a runtime error (a bad DSN, an unreachable database, a missing queue
 * …), reported as one line `pgqrs: <message>` on stderr; 2 after a usage error (unknown command or
 * option, missing or invalid argument), reported with the command's usage on stderr. Never calls
 * `process.exit`, and every store it opens is closed before it resolves.
 *
 * @example
 * ```ts
 * const code = await run(['--dsn', 'sqlite:///tmp/app.db', 'queue', 'metrics', 'jobs'], {
 *   stdout: (s) => process.stdout.write(s),
 *   stderr: (s) => process.stderr.write(s),
 * })
 * ```
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx = createContext(io)
  const program = createProgram(ctx)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return ctx.exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0; commander already wrote everything else.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    io.stderr(`pgqrs: ${oneLine(error)}\n`)
    return EXIT.error
  }
}
