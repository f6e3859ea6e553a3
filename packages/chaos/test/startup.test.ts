/**
 * Start-up of the suite's private servers (issue 12): PostgreSQL starts from binaries that only
 * the checkout's owner can reach (a clone under root's mode-700 home), and every start-up step
 * that cannot succeed fails within seconds, naming the cause, instead of hanging the test for its
 * 300 s timeout. The time bounds below are generous: they tell "failed fast" from "hung until a
 * timeout", nothing finer.
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { startEmbeddedPostgres } from '../src/embedded.ts'
import { startPgbouncer } from '../src/pgbouncer.ts'
import { embeddedInstallation } from '../src/postgres-install.ts'

/** Well below the 60 s step bound and the 300 s test timeout: the failure did not wait for either. */
const NOT_A_HANG_MS = 30_000
const dirs: string[] = []

function scratch(mode = 0o755): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgqrs-chaos-startup-'))
  fs.chmodSync(dir, mode)
  dirs.push(dir)
  return dir
}

/** A fake installation whose `bin/` holds the given scripts (name -> [body, mode]). */
function fakeInstallation(files: Record<string, [string, number]>): string {
  const dir = path.join(scratch(), 'pg')
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true })
  for (const [name, [body, mode]] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, 'bin', name), body)
    fs.chmodSync(path.join(dir, 'bin', name), mode)
  }
  return dir
}

const VERSION = ['#!/bin/sh\necho "postgres (PostgreSQL) 15"\n', 0o755] as [string, number]

/** Hard-links (or copies) a directory tree. */
function linkTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true })
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const [src, dst] = [path.join(from, e.name), path.join(to, e.name)]
    if (e.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), dst)
    else if (e.isDirectory()) linkTree(src, dst)
    else fs.linkSync(src, dst)
  }
}

async function timed<T>(p: Promise<T>): Promise<{ error: Error; ms: number }> {
  const t0 = Date.now()
  try {
    await p
  } catch (e) {
    return { error: e as Error, ms: Date.now() - t0 }
  }
  throw new Error('expected the start-up to fail, and it succeeded')
}

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

describe('private PostgreSQL start-up', { timeout: 120_000 }, () => {
  it('starts from binaries inside a mode-700 directory (a checkout under root’s home)', async () => {
    const home = scratch(0o700)
    const inst = path.join(home, 'clone', 'node_modules', 'native')
    linkTree(embeddedInstallation().dir, inst)
    const server = await startEmbeddedPostgres({ installDir: inst })
    try {
      const c = new pg.Client({ connectionString: server.url })
      await c.connect()
      const { rows } = await c.query('select 1 as one')
      await c.end()
      expect(rows).toEqual([{ one: 1 }])
      await server.stop('immediate')
      await server.start()
      const again = new pg.Client({ connectionString: server.url })
      await again.connect()
      await again.end()
    } finally {
      await server.destroy()
    }
  })

  it('an initdb nobody may execute fails at once with EACCES', async () => {
    const installDir = fakeInstallation({ postgres: VERSION, initdb: ['#!/bin/sh\n', 0o644] })
    const { error, ms } = await timed(startEmbeddedPostgres({ installDir }))
    expect(error.message).toMatch(/^initdb: cannot run .*\/bin\/initdb.*: EACCES$/)
    expect(ms).toBeLessThan(NOT_A_HANG_MS)
  })

  it('an initdb that fails reports its exit status and output', async () => {
    const initdb = ['#!/bin/sh\necho "initdb: error: disk on fire" >&2\nexit 3\n', 0o755]
    const installDir = fakeInstallation({ postgres: VERSION, initdb: initdb as [string, number] })
    const { error, ms } = await timed(startEmbeddedPostgres({ installDir }))
    expect(error.message).toMatch(
      /^initdb: .* exited with code 3; its output: initdb: error: disk on fire$/,
    )
    expect(ms).toBeLessThan(NOT_A_HANG_MS)
  })

  it('an initdb that never finishes is killed after the step bound', async () => {
    const installDir = fakeInstallation({
      postgres: VERSION,
      initdb: ['#!/bin/sh\nexec sleep 600\n', 0o755],
    })
    const { error, ms } = await timed(startEmbeddedPostgres({ installDir, stepTimeoutMs: 1_500 }))
    expect(error.message).toMatch(/^initdb: .* did not finish within 1500 ms/)
    expect(ms).toBeLessThan(NOT_A_HANG_MS)
  })

  it('a port in use fails at once with postgres’s own reason', async () => {
    const holder = net.createServer()
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r))
    const { port } = holder.address() as net.AddressInfo
    try {
      const { error, ms } = await timed(startEmbeddedPostgres({ port }))
      expect(error.message).toMatch(/^starting PostgreSQL on port \d+: postgres exited with code 1/)
      expect(error.message).toContain('Address already in use')
      expect(ms).toBeLessThan(NOT_A_HANG_MS)
    } finally {
      holder.close()
    }
  })
})

describe('PgBouncer start-up', { timeout: 60_000 }, () => {
  const upstream = { host: '127.0.0.1', port: 5432, user: 'postgres' }

  it('a pgbouncer nobody may execute fails at once with EACCES', async () => {
    const bin = path.join(
      fakeInstallation({ pgbouncer: ['#!/bin/sh\n', 0o644] }),
      'bin',
      'pgbouncer',
    )
    const { error, ms } = await timed(startPgbouncer(bin, upstream))
    expect(error.message).toMatch(/^pgbouncer did not start: cannot run .*pgbouncer.*: EACCES/)
    expect(ms).toBeLessThan(NOT_A_HANG_MS)
  })

  it('a pgbouncer that exits reports its status and output at once', async () => {
    const script = '#!/bin/sh\necho "FATAL cannot open config" >&2\nexit 1\n'
    const bin = path.join(fakeInstallation({ pgbouncer: [script, 0o755] }), 'bin', 'pgbouncer')
    const { error, ms } = await timed(startPgbouncer(bin, upstream))
    expect(error.message).toMatch(
      /^pgbouncer did not start: pgbouncer exited with code 1; its output: FATAL cannot open config/,
    )
    expect(ms).toBeLessThan(NOT_A_HANG_MS)
  })
})
