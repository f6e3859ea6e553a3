/** Where the CLI writes and what it reads from its environment; injectable so `run()` is testable in-process. */
export interface CliIo {
  /** Writes results (one JSON document with `--format json`). */
  readonly stdout: (text: string) => void
  /** Writes errors, usage and progress. */
  readonly stderr: (text: string) => void
  /** The environment the `PGQRS_*` variables are read from. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** True when stderr is a terminal: only then does a slow command draw a spinner. Default false. */
  readonly stderrIsTTY?: boolean
}
