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
  /** True when stdout is a terminal: only then does `stats --watch` redraw in place. Default false. */
  readonly stdoutIsTTY?: boolean
  /** The terminal's size, read at each redraw of `stats --watch`. Default 100 × 40. */
  readonly terminalSize?: () => { readonly columns?: number; readonly rows?: number }
  /**
   * Ends the long-running commands (`dashboard`, `stats --watch`) when aborted. Without it they
   * end on SIGINT or SIGTERM, which they listen for only while they run.
   */
  readonly signal?: AbortSignal
}
