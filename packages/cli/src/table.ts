import Table from 'cli-table3'

/** A column of a list table: its header and how to read the cell from a row. */
export interface Column<T> {
  readonly header: string
  readonly value: (row: T) => unknown
}

const MAX_CELL = 60
// No colours: the output is the same on a terminal, in a pipe and in a test.
const STYLE = { head: [], border: [], compact: true }

/**
 * Control characters a terminal would act on (C0 and DEL, C1, and the bidirectional overrides and
 * isolates that reorder what is shown), which may come from anywhere pgqrs stores user text
 * (worker and host names, step keys, dedupe keys, errors, payloads).
 */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/**
 * Text made safe for a terminal: every control character and bidi override shown escaped
 * (`\x1b`, `\u202e`) instead of acting. Tabs and newlines are kept for the caller to handle.
 * JSON output never goes through this: it stays exact.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0)
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/** One cell as text: dates in ISO 8601, null as empty, JSON values compact and cut at 60 characters. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (value instanceof Date) return value.toISOString()
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'object'
        ? (JSON.stringify(value) ?? '')
        : String(value)
  const line = terminalSafe(text.replace(/\s*[\n\r\t]\s*/g, ' '))
  return line.length > MAX_CELL ? `${line.slice(0, MAX_CELL - 1)}…` : line
}

/** A JSON value as JSON text (so a string payload shows its quotes); undefined stays empty. */
export function jsonText(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value)
}

/** A stored result (output or error) as JSON text; null (none yet) stays empty. */
export function resultText(value: unknown): string | undefined {
  return value === null ? undefined : jsonText(value)
}

/** A table with one row per item and a header line. */
export function rowsTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const table = new Table({ head: columns.map((c) => c.header), style: STYLE })
  for (const row of rows) table.push(columns.map((c) => cell(c.value(row))))
  return table.toString()
}

/** A two-column table of `field | value`, one line per field of `record`. */
export function recordTable(record: Readonly<Record<string, unknown>>): string {
  const table = new Table({ style: STYLE })
  for (const [key, value] of Object.entries(record)) table.push({ [key]: cell(value) })
  return table.toString()
}

/** The table of one page, with the flag that reads the next page when this one is full. */
export function pagedTable(
  rows: string,
  count: number,
  limit: number,
  next: string | number | undefined,
  flag = '--after',
): string {
  return count === limit && next !== undefined
    ? `${rows}\n(more: add ${flag} ${typeof next === 'string' ? JSON.stringify(next) : next})`
    : rows
}
