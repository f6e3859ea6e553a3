import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as pgqrs from 'pgqrs'
import { describe, expect, it } from 'vitest'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const PG_URL =
  process.env.PGQRS_TEST_DATABASE_URL ??
  process.env.PGQRS_TEST_DSN ??
  'postgres://postgres@127.0.0.1:5432/postgres'

/** Runs the demo as `pnpm demo` does (stdout is a pipe here, so the plain progress lines show). */
function runDemo(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, PGQRS_DSN: '', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      out += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 55_000)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

const lines = (out: string, re: RegExp) => out.split('\n').filter((l) => re.test(l))

function expectDemoStory(out: string): void {
  expect(out).toContain('processed 400/400')
  // plain progress lines, no bar, when stdout is not a terminal
  expect(lines(out, /^ {2}jobs \d+\/400 \(\d+%\)/)).toHaveLength(4)
  expect(out).not.toContain('█')
  // steps 1-2 run once (worker A), are killed after, and are replayed from storage by worker B
  expect(lines(out, /\[worker A .*step 1\/4 reserve_stock … done/)).toHaveLength(1)
  expect(lines(out, /\[worker A .*step 2\/4 charge_card … done/)).toHaveLength(1)
  expect(out).toMatch(/SIGKILL → worker A \(pid \d+\) died \(SIGKILL\) with step 2 stored/)
  expect(lines(out, /\[worker B .*step 1\/4 reserve_stock … skipped \(stored result/)).toHaveLength(
    1,
  )
  expect(lines(out, /\[worker B .*step 2\/4 charge_card … skipped \(stored result/)).toHaveLength(1)
  expect(lines(out, /step [12]\/4 .* … running/)).toHaveLength(2)
  expect(lines(out, /\[worker B .*step 4\/4 send_receipt … done/)).toHaveLength(1)
  // the summary, with per-step execution counts of exactly 1
  expect(out).toMatch(/workflow run: +\d+ → SUCCESS/)
  expect(out).toContain('"tracking":"trk-A-1001-7"')
  for (const step of ['reserve_stock', 'charge_card', 'ship_order', 'send_receipt']) {
    expect(out).toMatch(new RegExp(`\\d\\. ${step} +1 +(A|B)`))
  }
  expect(out).toContain('✓ every job processed once')
}

describe.concurrent('pnpm demo', () => {
  it('on an embedded SQLite file: drains the queue, resumes the killed run, exits 0', async () => {
    const { code, out } = await runDemo({})
    expect(out).toContain('embedded SQLite file')
    expectDemoStory(out)
    expect(code, out).toBe(0)
  })

  it('on Postgres (PGQRS_DSN): the same story, in a schema of its own that is dropped', async (ctx) => {
    let store: pgqrs.Store
    try {
      store = await pgqrs.connect(PG_URL, { connectTimeoutMs: 2_000, logger: false })
    } catch (e) {
      ctx.skip(`no PostgreSQL at ${PG_URL}: ${(e as Error).message}`)
      return
    }
    try {
      const { code, out } = await runDemo({ PGQRS_DSN: PG_URL })
      const schema = /schema (pgqrs_demo_[0-9a-f]+)/.exec(out)?.[1]
      expect(schema, out).toBeDefined()
      expectDemoStory(out)
      expect(code, out).toBe(0)
      const pool = (store as unknown as { pool: { query(s: string, v: unknown[]): Promise<any> } })
        .pool
      const left = await pool.query('select 1 from pg_namespace where nspname = $1', [schema])
      expect(left.rowCount).toBe(0)
    } finally {
      await store.close()
    }
  })
})
