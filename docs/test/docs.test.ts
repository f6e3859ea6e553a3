import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { listExamples, ROOT } from './examples.ts'

const DOCS = join(ROOT, 'docs')
/** Pages written by other people (CLI reference, benchmark report): not checked here. */
const NOT_OURS = new Set(['docs/cli.md', 'docs/benchmarks.md'])
/** Pages linked before they exist: benchmarks.md is written by `pnpm bench`. */
const MAY_NOT_EXIST = new Set(['docs/benchmarks.md'])

function markdown(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name === 'examples') return []
    const path = join(dir, e.name)
    return e.isDirectory() ? markdown(path) : e.name.endsWith('.md') ? [path] : []
  })
}

/** The README of every package: what it is, an install line and a sample, quoted like the docs'. */
const packageReadmes = readdirSync(join(ROOT, 'packages'))
  .map((dir) => join(ROOT, 'packages', dir, 'README.md'))
  .filter((file) => existsSync(file))

const pages = [join(ROOT, 'README.md'), ...markdown(DOCS), ...packageReadmes]
  .map((file) => ({ file, name: relative(ROOT, file), text: readFileSync(file, 'utf8') }))
  .filter((p) => !NOT_OURS.has(p.name))
const examples = listExamples()

/** The ```ts blocks of a page. */
function codeBlocks(text: string): string[] {
  return [...text.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```$/gm)].map((m) => m[1]!)
}

describe('docs', () => {
  it('every published package has a README with an install line and a sample', () => {
    for (const dir of readdirSync(join(ROOT, 'packages'))) {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8'))
      if (pkg.private) continue
      const file = join(ROOT, 'packages', dir, 'README.md')
      expect(existsSync(file), `${dir}/README.md`).toBe(true)
      const text = readFileSync(file, 'utf8')
      expect(text.startsWith(`# ${pkg.name}`), `${dir}/README.md names ${pkg.name}`).toBe(true)
      expect(text, `${dir}/README.md has an install line`).toMatch(/pnpm add (-[gD] )?\S*/)
    }
  })

  it('has the pages of SPEC section 12', () => {
    for (const page of [
      'README.md',
      'getting-started.md',
      'concepts.md',
      'production.md',
      'backends/postgres.md',
      'backends/sqlite.md',
      'backends/turso.md',
      'guides/custom-store.md',
      'cli.md',
    ]) {
      expect(existsSync(join(DOCS, page)), page).toBe(true)
    }
  })

  it.each(pages.map((p) => [p.name, p] as const))(
    '%s: every TypeScript sample is quoted verbatim from a file in docs/examples',
    (_name, page) => {
      const unquoted = codeBlocks(page.text).filter(
        (block) => !examples.some((e) => e.source.includes(block)),
      )
      expect(unquoted.map((b) => b.split('\n').slice(0, 3).join('\n'))).toEqual([])
    },
  )

  it.each(pages.map((p) => [p.name, p] as const))(
    '%s: relative links point to files that exist',
    (_name, page) => {
      const broken: string[] = []
      for (const [, target] of page.text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target!)) continue
        const path = resolve(dirname(page.file), target!.split('#')[0]!)
        if (!existsSync(path) && !MAY_NOT_EXIST.has(relative(ROOT, path))) broken.push(target!)
      }
      expect(broken).toEqual([])
    },
  )

  it('every example file is shown or linked by some page', () => {
    const all = pages.map((p) => p.text).join('\n')
    const unused = examples.map((e) => e.name).filter((name) => !all.includes(`examples/${name}`))
    expect(unused).toEqual([])
  })

  it('every sample quoted by a page is named by that page (the reader can find and run it)', () => {
    const missing: string[] = []
    for (const page of pages) {
      for (const block of codeBlocks(page.text)) {
        const from = examples.filter((e) => e.source.includes(block))
        if (from.length > 0 && !from.some((e) => page.text.includes(`examples/${e.name}`)))
          missing.push(`${page.name}: ${from[0]!.name}`)
      }
    }
    expect(missing).toEqual([])
  })
})
