import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { checkExpectation, EXAMPLES_DIR, type Example, listExamples } from './examples.ts'
import { type Finished, runNode } from './run-node.ts'

const examples = listExamples()
const runnable = examples.filter((e) => e.runnable)

/** Fails with the program's output when it did not exit 0 or an expectation is not met. */
function expectRan(example: Example, result: Finished): void {
  const output = `--- stdout\n${result.stdout}--- stderr\n${result.stderr}`
  expect(result.code, `${example.name} exited ${result.code ?? result.signal}\n${output}`).toBe(0)
  const failures = example.expects
    .map((e) => checkExpectation(e, result.stdout))
    .filter((f): f is string => f !== null)
  expect(failures, `${example.name}\n${output}`).toEqual([])
}

/** Runs an example with its own TMPDIR (its temp SQLite files go there and are removed). */
async function runExample(example: Example, env: Record<string, string>): Promise<Finished> {
  const tmp = mkdtempSync(join(tmpdir(), 'pgqrs-docs-'))
  try {
    const { PGQRS_DSN: _ignored, ...base } = process.env
    return await runNode([example.file], {
      cwd: tmp,
      env: { ...base, TMPDIR: tmp, NO_COLOR: '1', ...env },
      timeoutMs: 40_000,
    })
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

describe('docs/examples', () => {
  it('every program declares what it prints; the rest are the custom store modules and their test', () => {
    expect(examples.filter((e) => !e.runnable).map((e) => e.name)).toEqual([
      'custom-store/conformance.test.ts',
      'custom-store/my-sqlite-store.ts',
      'custom-store/traced-store.ts',
    ])
    expect(runnable.length).toBeGreaterThanOrEqual(14)
  })

  it('type-check: tsc -p docs/examples', async () => {
    const tsc = join(
      createRequire(import.meta.url).resolve('typescript/package.json'),
      '../bin/tsc',
    )
    const result = await runNode([tsc, '-p', EXAMPLES_DIR], { timeoutMs: 60_000 })
    expect(result.stdout + result.stderr).toBe('')
    expect(result.code).toBe(0)
  })
})

describe.concurrent('docs/examples run on SQLite', () => {
  for (const example of runnable.filter((e) => e.run !== 'postgres')) {
    it(`runs ${example.name}`, async () => {
      expectRan(example, await runExample(example, {}))
    })
  }
})

const PG_URL =
  process.env.PGQRS_TEST_DATABASE_URL ??
  process.env.PGQRS_TEST_DSN ??
  'postgres://postgres@127.0.0.1:5432/postgres'

/** Runs `sql` on the server's maintenance database; null when no server answers. */
async function admin(sql: string): Promise<true | string> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query(sql)
    return true
  } catch (e) {
    return (e as Error).message
  } finally {
    await client.end().catch(() => {})
  }
}

const pgAnswer = await admin('select 1')
const pgReason = pgAnswer === true ? '' : ` (skipped: no PostgreSQL at ${PG_URL}: ${pgAnswer})`

describe.skipIf(pgAnswer !== true).concurrent(`docs/examples run on PostgreSQL${pgReason}`, () => {
  let n = 0
  for (const example of runnable.filter((e) => e.run !== 'once')) {
    it(`runs ${example.name} (in a fresh database)`, async () => {
      // A database per example: each starts from nothing, like the SQLite runs.
      const db = `pgqrs_docs_${process.pid}_${++n}`
      expect(await admin(`create database ${db}`)).toBe(true)
      try {
        const url = new URL(PG_URL)
        url.pathname = `/${db}`
        expectRan(example, await runExample(example, { PGQRS_DSN: url.toString() }))
      } finally {
        await admin(`drop database if exists ${db} with (force)`)
      }
    })
  }
})
