// docs/security.md: every guarantee names a test (a file and the test's title), and each named
// test exists under that title, so a renamed or deleted test fails here instead of leaving a
// claim without a check.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from './examples.ts'

const page = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8')

/** The rows of the guarantee tables: `| claim | [`file`](../file) — "title"; … |`. */
const rows = page
  .split('## What pgqrs guarantees')[1]!
  .split('## What stays your application')[0]!
  .split('\n')
  .filter((l) => l.startsWith('| ') && !l.startsWith('| guarantee') && !l.startsWith('| ---'))
  .map((l) => {
    const cells = l.split(' | ')
    const tests = [...cells.at(-1)!.matchAll(/\]\(\.\.\/([^)]+)\) — "([^"]+)"/g)].map((m) => ({
      file: m[1]!,
      title: m[2]!,
    }))
    return { claim: cells[0]!.slice(2), tests }
  })

describe('docs/security.md', () => {
  it('has guarantees, each naming at least one test', () => {
    expect(rows.length).toBeGreaterThan(20)
    expect(rows.filter((r) => r.tests.length === 0).map((r) => r.claim)).toEqual([])
  })

  it.each(rows.flatMap((r) => r.tests))('$file has a test "$title"', ({ file, title }) => {
    const source = readFileSync(resolve(ROOT, file), 'utf8')
    // the title (or its start) is a test's or describe block's name, quoted in the source
    expect(
      source.includes(`'${title}`) || source.includes(`"${title}`) || source.includes(`\`${title}`),
    ).toBe(true)
  })
})
