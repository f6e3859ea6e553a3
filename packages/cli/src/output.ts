/** What a command produced: one JSON document, and how it looks as tables. */
export interface Output {
  /** Printed (pretty, dates as ISO strings) with `--format json`. */
  readonly json: unknown
  /** Printed with `--format table` (rendered only then). */
  readonly table: () => string
  /**
   * Set when the command ran but its result is a failure (e.g. `verify` found problems): the
   * output is still printed, then this line goes to stderr and the exit code is 1.
   */
  readonly failure?: string
  /** Set when the command already wrote everything itself (`stats --watch`): nothing more is printed. */
  readonly written?: boolean
}

/** The output formats of `--format`. */
export const FORMATS = ['table', 'json'] as const
/** An output format. */
export type Format = (typeof FORMATS)[number]

/** Renders `output` in `format`, ending with a newline. */
export function render(output: Output, format: Format): string {
  if (format === 'json') return `${JSON.stringify(output.json, null, 2) ?? 'null'}\n`
  return `${output.table()}\n`
}
