import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { boundCli, expectError, MIGRATIONS, pgqrs, SCHEMA_VERSION, tempDir } from './helpers.js'

// One SQLite file for this file (never :memory:); each test uses its own queue names.
const tmp = tempDir()
const dsn = `sqlite://${join(tmp.dir, 'cli.db')}`
const { cli, cliJson, cliRaw } = boundCli(['--dsn', dsn])

beforeAll(async () => {
  await cli('install')
})
afterAll(() => tmp.remove())

describe('install and verify (SQLite)', () => {
  it('install is idempotent and reports the schema version', async () => {
    const r = await cliJson('install')
    expect(r).toMatchObject({ installed: true, backend: 'sqlite', schemaVersion: SCHEMA_VERSION })
    expect(r.migrations).toEqual(MIGRATIONS)
    expect(r).not.toHaveProperty('schema')
  })

  it('verify passes on an installed file', async () => {
    expect(await cliJson('verify')).toEqual({
      ok: true,
      migrations: MIGRATIONS,
      schema: {
        state: 'current',
        expected: SCHEMA_VERSION,
        installed: SCHEMA_VERSION,
        pending: [],
        unknown: [],
        location: 'this database',
      },
      problems: [],
    })
    expect(await cli('verify')).toMatch(/ok\s+│ true/)
  })

  it('verify on a file without pgqrs prints the problems and exits 1', async () => {
    const other = `sqlite://${join(tmp.dir, 'bare.db')}`
    const r = await pgqrs(['--dsn', other, 'verify', '--format', 'json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/not installed/)],
    })
    expect(r.stderr).toMatch(/^pgqrs: verify failed: .*not installed[^\n]*\n$/)
  })
})

describe('queue commands (SQLite)', () => {
  it('create, get and list, in both formats', async () => {
    const created = await cliJson('queue', 'create', 'q-orders')
    expect(created).toMatchObject({ name: 'q-orders', id: expect.any(Number) })
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt)
    expect(await cliJson('queue', 'get', 'q-orders')).toEqual(created)
    expect(await cli('queue', 'get', 'q-orders')).toMatch(/name\s+│ q-orders/)
    const list = await cliJson<{ name: string }[]>('queue', 'list')
    expect(list.map((q) => q.name)).toContain('q-orders')
    expect(await cli('queue', 'list')).toMatch(/│ id\s+│ name\s+│ created at\s+│[\s\S]*q-orders/)
  })

  it('create refuses an existing queue and an invalid name (exit 1)', async () => {
    await cli('queue', 'create', 'q-dup')
    expectError(await cliRaw('queue', 'create', 'q-dup'), /Queue "q-dup" already exists/)
    expectError(await cliRaw('queue', 'create', 'my queue'), /queue name/i)
  })

  it('get, purge, delete and metrics of a missing queue exit 1 with QueueNotFoundError', async () => {
    const cmds = ['get', 'purge', 'delete', 'metrics']
    const results = await Promise.all(cmds.map((cmd) => cliRaw('queue', cmd, 'q-missing')))
    for (const r of results) expectError(r, /Queue "q-missing" does not exist/)
  })

  it('metrics of one queue and of all queues', async () => {
    await cli('queue', 'create', 'q-metrics')
    await cli('send', 'q-metrics', '{"n":1}')
    await cli('send', 'q-metrics', '{"n":2}', '--delay', '600000')
    expect(await cliJson('queue', 'metrics', 'q-metrics')).toMatchObject({
      name: 'q-metrics',
      pending: 1,
      delayed: 1,
      leased: 0,
      archived: 0,
      dead: 0,
    })
    const all = await cliJson<{ name: string; pending: number }[]>('queue', 'metrics')
    expect(all.find((m) => m.name === 'q-metrics')).toMatchObject({ pending: 1, delayed: 1 })
    expect(await cli('queue', 'metrics', 'q-metrics')).toMatch(
      /│ queue\s+│ pending │ leased │ delayed │[\s\S]*│ q-metrics │ 1\s+│ 0\s+│ 1\s+│/,
    )
  })

  it('purge deletes every message and keeps the queue', async () => {
    await cli('queue', 'create', 'q-purge')
    await cli('send', 'q-purge', '1')
    await cli('send', 'q-purge', '2')
    expect(await cliJson('queue', 'purge', 'q-purge')).toEqual({ queue: 'q-purge', purged: 2 })
    expect(await cliJson('queue', 'metrics', 'q-purge')).toMatchObject({ pending: 0 })
    expect(await cli('queue', 'purge', 'q-purge')).toMatch(/purged\s+│ 0/)
  })

  it('delete needs --force while the queue has active messages', async () => {
    await cli('queue', 'create', 'q-del')
    await cli('send', 'q-del', '{"keep":true}')
    expectError(await cliRaw('queue', 'delete', 'q-del'), /1 active message.*pass --force/)
    expect(await cliJson('queue', 'metrics', 'q-del')).toMatchObject({ pending: 1 })
    expect(await cliJson('queue', 'delete', 'q-del', '--force')).toEqual({
      queue: 'q-del',
      deleted: true,
    })
    expectError(await cliRaw('queue', 'get', 'q-del'), /does not exist/)
    await cli('queue', 'create', 'q-del2')
    expect(await cli('queue', 'delete', 'q-del2')).toMatch(/deleted\s+│ true/)
  })
})

describe('send and messages (SQLite)', () => {
  beforeAll(async () => {
    await cli('queue', 'create', 'q-send')
  })

  it('send prints the message; --priority, --delay and --dedupe-key apply', async () => {
    const a = await cliJson('send', 'q-send', '{"to":"a@b.c"}', '--priority', '-3')
    expect(a).toMatchObject({
      queue: 'q-send',
      payload: { to: 'a@b.c' },
      priority: -3,
      attempts: 0,
    })
    const before = Date.now()
    const b = await cliJson('send', 'q-send', '"later"', '--delay', '600000')
    expect(Date.parse(b.visibleAt)).toBeGreaterThan(before + 500_000)
    const c1 = await cliJson(
      'send',
      'q-send',
      '{"once":1}',
      '--dedupe-key',
      'k1',
      '--max-attempts',
      '2',
    )
    const c2 = await cliJson('send', 'q-send', '{"once":2}', '--dedupe-key', 'k1')
    expect(c2.id).toBe(c1.id)
    expect(c1).toMatchObject({ dedupeKey: 'k1', maxAttempts: 2 })
    const table = await cli('send', 'q-send', '"text"')
    expect(table).toMatch(/state\s+│ pending/)
    expect(table).toMatch(/payload\s+│ "text"/)
  })

  it('send to a missing queue exits 1; a forbidden key is a ValidationError', async () => {
    expectError(await cliRaw('send', 'q-nowhere', '{}'), /Queue "q-nowhere" does not exist/)
    expectError(await cliRaw('send', 'q-send', '{"__proto__":{"x":1}}'), /__proto__/)
  })

  it('messages lists by state, oldest first, with --limit', async () => {
    const active = await cliJson<{ id: number; payload: unknown }[]>('messages', 'q-send')
    expect(active.length).toBe(4)
    expect(active.map((m) => m.id)).toEqual([...active.map((m) => m.id)].sort((x, y) => x - y))
    const delayed = await cliJson('messages', 'q-send', '--state', 'delayed')
    expect(delayed).toMatchObject([{ payload: 'later' }])
    expect(await cliJson('messages', 'q-send', '--state', 'pending', '--limit', '2')).toHaveLength(
      2,
    )
    expect(await cliJson('messages', 'q-send', '--state', 'archived')).toEqual([])
    const table = await cli('messages', 'q-send', '--state', 'delayed')
    expect(table).toMatch(/│ id\s+│ state\s+│ priority │ attempts │[\s\S]*│ delayed │ 0\s+│ 0\/5/)
  })

  it('messages of a missing queue exits 1', async () => {
    expectError(await cliRaw('messages', 'q-ghost'), /Queue "q-ghost" does not exist/)
  })
})

describe('stats (SQLite)', () => {
  it('totals match the queues and messages', async () => {
    const [stats, all] = await Promise.all([
      cliJson('stats'),
      cliJson<{ pending: number; delayed: number }[]>('queue', 'metrics'),
    ])
    expect(stats).toMatchObject({ queues: all.length, schemaVersion: SCHEMA_VERSION })
    expect(all.length).toBeGreaterThanOrEqual(5)
    expect(stats.pending).toBe(all.reduce((n, m) => n + m.pending, 0))
    expect(stats.delayed).toBe(all.reduce((n, m) => n + m.delayed, 0))
    expect(await cli('stats')).toMatch(
      new RegExp(`queues\\s+│ \\d+[\\s\\S]*schemaVersion\\s+│ ${SCHEMA_VERSION}`),
    )
  })
})

describe('secrets (issue 13)', () => {
  it('a failing connect prints no password or token, in table and JSON format', async () => {
    for (const [dsn, secret] of [
      ['postgres://app:pw-Secret-123@127.0.0.1:1/app', 'pw-Secret-123'],
      ['postgres://app:pw-Secret-123@[::1/app', 'pw-Secret-123'],
      ['libsql://[bad?authToken=tok-Secret-456', 'tok-Secret-456'],
    ] as const) {
      for (const format of ['table', 'json']) {
        const r = await pgqrs(['--dsn', dsn, '--format', format, 'stats'], {
          env: { PGQRS_CONNECT_TIMEOUT_MS: '2000' },
        })
        expect(r.code, dsn).toBe(1)
        expect(r.stdout + r.stderr, dsn).not.toContain(secret)
      }
    }
  })
})

describe('queue concurrency limits (SQLite)', () => {
  it('create with limits, show them, change and remove them', async () => {
    const created = await cliJson('queue', 'create', 'q-limited', '--max-concurrency', '3')
    expect(created).toMatchObject({
      name: 'q-limited',
      maxConcurrency: 3,
      concurrencyPerKey: null,
      rateLimit: null,
    })
    expect(await cliJson('queue', 'get', 'q-limited')).toEqual(created)
    expect(await cli('queue', 'get', 'q-limited')).toMatch(/maxConcurrency\s+│ 3/)
    expect(
      await cliJson(
        'queue',
        'limits',
        'q-limited',
        '--concurrency-per-key',
        '1',
        '--max-concurrency',
        'none',
      ),
    ).toEqual({ name: 'q-limited', maxConcurrency: null, concurrencyPerKey: 1, rateLimit: null })
    expect(
      await cliJson('queue', 'limits', 'q-limited', '--rate', '20/1000', '--rate-per-key'),
    ).toEqual({
      name: 'q-limited',
      maxConcurrency: null,
      concurrencyPerKey: 1,
      rateLimit: { max: 20, perMs: 1000, perKey: true },
    })
    expect((await cliJson('queue', 'limits', 'q-limited', '--rate', 'none')).rateLimit).toBeNull()
    expect((await cliRaw('queue', 'limits', 'q-limited', '--rate', 'fast')).code).toBe(2)
    expect(
      await cliJson('send', 'q-limited', '{"n":1}', '--concurrency-key', 'customer-7'),
    ).toMatchObject({
      payload: { n: 1 },
    })
    expectError(
      await cliRaw('queue', 'limits', 'q-nope', '--max-concurrency', '2'),
      /does not exist/,
    )
  })
})
