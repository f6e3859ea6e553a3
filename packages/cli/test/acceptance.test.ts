import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectError, expectUsage, ok, okJson, pgqrs, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.remove())

describe('pgqrs: the acceptance of the issue (SQLite file)', () => {
  it('install, queue create, send, then `queue metrics jobs --format json` has pending = 1', async () => {
    const dsn = `sqlite://${join(tmp.dir, 'x.db')}`
    expect(await ok(['--dsn', dsn, 'install'])).toMatch(/installed\s.*true/)
    expect(await ok(['--dsn', dsn, 'queue', 'create', 'jobs'])).toMatch(/name\s.*jobs/)
    const sent = await ok(['--dsn', dsn, 'send', 'jobs', '{"a":1}'])
    expect(sent).toMatch(/payload\s.*\{"a":1\}/)
    const out = await ok(['--dsn', dsn, 'queue', 'metrics', 'jobs', '--format', 'json'])
    // exactly one JSON document, so `| jq .pending` works
    const metrics = JSON.parse(out)
    expect(metrics).toMatchObject({ name: 'jobs', pending: 1, leased: 0, delayed: 0, dead: 0 })
    expect(Date.parse(metrics.newestEnqueuedAt)).not.toBeNaN()
  })

  it('reads the DSN from PGQRS_DSN, and --dsn wins over it', async () => {
    const envDb = join(tmp.dir, 'env.db')
    await ok(['install'], { PGQRS_DSN: `sqlite://${envDb}` })
    expect(existsSync(envDb)).toBe(true)
    const flagDb = join(tmp.dir, 'flag.db')
    const r = await okJson(['--dsn', `sqlite://${flagDb}`, 'install'], { PGQRS_DSN: 'mysql://x' })
    expect(r).toMatchObject({ installed: true, backend: 'sqlite' })
    expect(existsSync(flagDb)).toBe(true)
  })

  it('a malformed PGQRS_* variable exits 1 naming the variable', async () => {
    const r = await pgqrs(['--dsn', `sqlite://${join(tmp.dir, 'x.db')}`, 'stats'], {
      env: { PGQRS_CONNECT_TIMEOUT_MS: 'soon' },
    })
    expectError(r, /PGQRS_CONNECT_TIMEOUT_MS="soon"/)
  })

  it('works on a Turso/libSQL file too', async () => {
    const dsn = `turso://${join(tmp.dir, 't.db')}`
    await ok(['--dsn', dsn, 'install'])
    await ok(['--dsn', dsn, 'queue', 'create', 'jobs'])
    await ok(['--dsn', dsn, 'send', 'jobs', '[1,2,3]', '--priority', '4'])
    expect(await okJson(['--dsn', dsn, 'messages', 'jobs'])).toMatchObject([
      { payload: [1, 2, 3], priority: 4 },
    ])
    expect(await okJson(['--dsn', dsn, 'queue', 'metrics', 'jobs'])).toMatchObject({ pending: 1 })
  })
})

describe('pgqrs: runtime errors exit 1 with one line on stderr', () => {
  it('an unknown DSN scheme gives the ConfigError naming the schemes', async () => {
    expectError(
      await pgqrs(['--dsn', 'mysql://x', 'stats']),
      /Unsupported DSN scheme "mysql:".*sqlite:/,
    )
  })

  it('a malformed sqlite DSN gives the ConfigError', async () => {
    expectError(await pgqrs(['--dsn', 'sqlite://host/x.db', 'stats']), /Malformed sqlite DSN/)
  })

  it('an unreachable Postgres gives a ConnectionError quickly', async () => {
    const started = Date.now()
    const r = await pgqrs(['--dsn', 'postgres://127.0.0.1:1/x', 'queue', 'list'], {
      env: { PGQRS_CONNECT_TIMEOUT_MS: '1000' },
    })
    expectError(r, /PostgreSQL/)
    expect(Date.now() - started).toBeLessThan(8_000)
  })

  describe('a server that accepts but never answers', () => {
    let server: Server
    let port = 0
    beforeAll(async () => {
      server = createServer(() => {})
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      port = (server.address() as { port: number }).port
    })
    afterAll(() => {
      server.close()
    })

    it('gives a ConnectionError after PGQRS_CONNECT_TIMEOUT_MS, not a hang', async () => {
      const started = Date.now()
      const r = await pgqrs(['--dsn', `postgres://postgres@127.0.0.1:${port}/x`, 'stats'], {
        env: { PGQRS_CONNECT_TIMEOUT_MS: '700' },
      })
      expectError(r, /PostgreSQL/)
      const elapsed = Date.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(600)
      expect(elapsed).toBeLessThan(8_000)
    })
  })

  it('a command before install says to run install', async () => {
    const r = await pgqrs(['--dsn', `sqlite://${join(tmp.dir, 'empty.db')}`, 'queue', 'list'])
    expectError(r, /not installed.*pgqrs install/)
  })
})

describe('pgqrs: usage', () => {
  it('an unknown command exits 2 with usage on stderr', async () => {
    expectUsage(await pgqrs(['frobnicate']), /pgqrs: unknown command 'frobnicate'/)
  })

  it('no command at all exits 2 with usage on stderr', async () => {
    expectUsage(await pgqrs([]), /Commands:/)
  })

  it('a command without a DSN (none in the environment either) exits 2', async () => {
    expectUsage(await pgqrs(['stats']), /pgqrs: no database: pass --dsn/, /Usage: pgqrs stats/)
  })

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    expect(await ok(['--version'])).toBe(`${pkg.version}\n`)
  })
})
