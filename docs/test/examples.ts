import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** docs/examples/, absolute. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../examples/', import.meta.url))
/** The repository root, absolute. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** One example file and what its header says about running it. */
export interface Example {
  /** Path under docs/examples/, e.g. `custom-store/use-my-store.ts`. */
  readonly name: string
  readonly file: string
  readonly source: string
  /** `// expect: text` (a substring of stdout) or `// expect: /regex/` (matched per line). */
  readonly expects: readonly string[]
  /**
   * `// run: once`: does not read PGQRS_DSN, so it runs once (with the SQLite pass);
   * `// run: postgres`: Postgres only; default: on SQLite, and on Postgres when one answers.
   */
  readonly run: 'both' | 'once' | 'postgres'
  /** A program (it has expectations) rather than a module or a test file. */
  readonly runnable: boolean
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** Every .ts file under docs/examples/, sorted. */
export function listExamples(): Example[] {
  return walk(EXAMPLES_DIR)
    .sort()
    .map((file) => {
      const source = readFileSync(file, 'utf8')
      const header = source.split('\n').filter((l) => l.startsWith('//'))
      const value = (key: string) =>
        header.filter((l) => l.startsWith(`// ${key}: `)).map((l) => l.slice(key.length + 5))
      const run = value('run')[0] ?? 'both'
      if (run !== 'both' && run !== 'once' && run !== 'postgres')
        throw new Error(`${file}: unknown "// run: ${run}"`)
      const expects = value('expect')
      return {
        name: relative(EXAMPLES_DIR, file),
        file,
        source,
        expects,
        run,
        runnable: expects.length > 0,
      }
    })
}

/** Checks one expectation against a program's stdout; returns an error text or null. */
export function checkExpectation(expect: string, stdout: string): string | null {
  const regex = /^\/(.*)\/$/.exec(expect)
  if (regex) {
    return new RegExp(regex[1]!, 'm').test(stdout) ? null : `no line matches ${expect}`
  }
  return stdout.includes(expect) ? null : `output lacks "${expect}"`
}
