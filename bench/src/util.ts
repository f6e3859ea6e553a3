import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * The version of an installed package, as seen from `fromDir` (default: this package): the first
 * `node_modules/<name>/package.json` walking up, as Node resolves it.
 */
export function packageVersion(
  name: string,
  fromDir: string = dirname(fileURLToPath(import.meta.url)),
): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    try {
      const file = join(dir, 'node_modules', name, 'package.json')
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
    } catch {
      if (dirname(dir) === dir) return 'unknown'
    }
  }
}

/** The directory of an installed package's entry point (to look up its own dependencies). */
export function packageDir(name: string): string {
  return dirname(fileURLToPath(import.meta.resolve(name)))
}

/** Resolves when `check()` is true, polling every `everyMs`; rejects after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  everyMs = 5,
): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`)
    await sleep(everyMs)
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!)
  })
  await Promise.all(lanes)
}

/** Splits `count` items starting at `from` into chunks of at most `size`: [start, length] pairs. */
export function chunks(count: number, size: number, from = 0): [number, number][] {
  const out: [number, number][] = []
  for (let s = 0; s < count; s += size) out.push([from + s, Math.min(size, count - s)])
  return out
}

/**
 * CPU time (user + system, ms) used so far by every `postgres` process of this machine, from
 * /proc; null when there is none to read (not Linux, or the server is remote). Drains report the
 * difference per message, to show where a system's cost lands: client or database.
 */
export function postgresCpuMs(): number | null {
  let ticks = 0
  let seen = false
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p))
  } catch {
    return null
  }
  for (const pid of pids) {
    try {
      if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres')) continue
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(f[11]) + Number(f[12]) // utime, stime (fields 14 and 15)
      seen = true
    } catch {
      // the process ended meanwhile
    }
  }
  return seen ? ticks * 10 : null // USER_HZ is 100 on Linux
}
