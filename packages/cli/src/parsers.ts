import { InvalidArgumentError } from 'commander'

/**
 * Argument parsers for commander: a value they refuse is a usage error (exit code 2), reported by
 * commander with the option or argument it belongs to.
 */

function integer(value: string, min: number, allowed: string): number {
  const n = /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`use ${allowed}.`)
  return n
}

/** Any integer (`--priority`). */
export const parseInteger = (value: string): number =>
  integer(value, Number.MIN_SAFE_INTEGER, 'an integer')

/** An integer ≥ 0 (`--delay`, `--stale-after`). */
export const parseNonNegative = (value: string): number => integer(value, 0, 'an integer ≥ 0')

/** An integer ≥ 1 (ids, `--limit`). */
export const parsePositive = (value: string): number => integer(value, 1, 'an integer ≥ 1')

/** A JSON document (the payload of `send`). */
export function parseJson(value: string): unknown {
  try {
    return JSON.parse(value)
  } catch (e) {
    throw new InvalidArgumentError(
      `Not valid JSON (${(e as Error).message}); quote it for your shell, e.g. '{"a":1}'.`,
    )
  }
}

/** A comma-separated list of values from `allowed`, case-insensitive; returns them upper-cased as in `allowed`. */
export function parseChoiceList<T extends string>(allowed: readonly T[]) {
  return (value: string): T[] => {
    const out: T[] = []
    for (const part of value.split(',')) {
      const hit = allowed.find((a) => a.toLowerCase() === part.trim().toLowerCase())
      if (!hit) throw new InvalidArgumentError(`use one or more of ${allowed.join(', ')}.`)
      out.push(hit)
    }
    return out
  }
}

/** A TCP port, 0 to 65535 (`--port`; 0 lets the system pick one). */
export function parsePort(value: string): number {
  const n = integer(value, 0, 'a port from 0 to 65535')
  if (n > 65_535) throw new InvalidArgumentError('use a port from 0 to 65535.')
  return n
}
