import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { boundCli, expectError, okJson, pgqrs, SCHEMA_VERSION } from './helpers.js'
import { seedDead, seedRuns, withLibrary } from './seed.js'

const URL_ = process.env.PGQRS_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
// One schema for this file, dropped afterwards.
const SCHEMA = `pgqrs_cli_${randomBytes(5).toString('hex')}`

async function query<T extends pg.QueryResultRow = any>(text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: URL_, connectionTimeoutMillis: 2_000 })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query<T>(text, values)).rows
  } finally {
    await client.end().catch(() => {})
  }
}

/** '' when a server answers at URL_, else why not. */
async function probe(): Promise<string> {
  try {
    await query('select 1')
    return ''
  } catch (e) {
    return `no PostgreSQL answers at ${URL_.replace(/:[^:@/]*@/, ':***@')} (${(e as Error).message})`
  }
}
const skipReason = await probe()

const g = ['--dsn', URL_, '--schema', SCHEMA]
const { cli, cliJson, cliRaw } = boundCli(g)

describe.skipIf(skipReason !== '')(
  `pgqrs on PostgreSQL (schema ${SCHEMA})${skipReason ? ` — skipped: ${skipReason}` : ''}`,
  () => {
    afterAll(async () => {
      await query(`drop schema if exists "${SCHEMA}" cascade`)
    })

    it('verify before install exits 1; install creates the schema; verify then passes', async () => {
      const before = await cliRaw('verify')
      expect(before.code).toBe(1)
      expect(before.stderr).toMatch(/^pgqrs: verify failed: [^\n]+\n$/)
      expect(await cliJson('install')).toMatchObject({
        installed: true,
        backend: 'postgres',
        schema: SCHEMA,
        schemaVersion: SCHEMA_VERSION,
      })
      const tables = await query(
        "select table_name from information_schema.tables where table_schema = $1 and table_name = 'pgqrs_queues'",
        [SCHEMA],
      )
      expect(tables).toHaveLength(1)
      expect(await cliJson('verify')).toMatchObject({ ok: true })
    })

    it('the schema comes from PGQRS_SCHEMA unless --schema is given', async () => {
      const env = { PGQRS_SCHEMA: SCHEMA, PGQRS_DSN: URL_ }
      expect(await okJson(['stats'], env)).toMatchObject({
        schemaVersion: SCHEMA_VERSION,
      })
      const other = await pgqrs(['--schema', `${SCHEMA}_none`, 'queue', 'list'], { env })
      expectError(other, /not installed/)
      expectError(
        await pgqrs(['--dsn', URL_, '--schema', 'bad name', 'stats']),
        /Invalid schema "bad name"/,
      )
    })

    it('queue, send, messages and metrics', async () => {
      await cli('queue', 'create', 'jobs')
      const sent = await cliJson('send', 'jobs', '{"a":1}', '--priority', '5')
      expect(sent).toMatchObject({ queue: 'jobs', payload: { a: 1 }, priority: 5 })
      await cli('send', 'jobs', '{"a":2}', '--delay', '600000')
      expect(await cliJson('queue', 'metrics', 'jobs')).toMatchObject({
        name: 'jobs',
        pending: 1,
        delayed: 1,
      })
      expect(await cliJson('queue', 'list')).toMatchObject([{ name: 'jobs' }])
      expect(await cli('messages', 'jobs')).toMatch(/│ pending │ 5\s+│[\s\S]*│ delayed │ 0\s+│/)
      expectError(await cliRaw('queue', 'create', 'jobs'), /already exists/)
    })

    it('dlq list and replay', async () => {
      await cli('queue', 'create', 'mail')
      const id = await withLibrary(URL_, (s) => seedDead(s, 'mail', { to: 'a' }), SCHEMA)
      expect(await cliJson('dlq', 'list', 'mail')).toMatchObject([
        { id, lastError: 'boom: mail server down' },
      ])
      expect(await cliJson('dlq', 'replay', String(id))).toMatchObject({
        id,
        attempts: 0,
        deadAt: null,
      })
      expect(await cliJson('queue', 'metrics', 'mail')).toMatchObject({ pending: 1, dead: 0 })
    })

    it('workers list, health, suspend and resume', async () => {
      await withLibrary(
        URL_,
        (s) => s.workers.register({ name: 'pg-worker', queue: 'jobs', hostname: 'h', pid: 7 }),
        SCHEMA,
      )
      expect(await cliJson('workers', 'list', '--queue', 'jobs')).toMatchObject([
        { name: 'pg-worker', status: 'ready' },
      ])
      expect(await cliJson('workers', 'suspend', 'pg-worker')).toMatchObject({
        status: 'suspended',
      })
      expect(await cliJson('workers', 'health', '--queue', 'jobs')).toMatchObject({
        total: 1,
        suspended: 1,
      })
      expect(await cliJson('workers', 'resume', 'pg-worker')).toMatchObject({ status: 'ready' })
    })

    it('runs list, show and cancel', async () => {
      const ids = await withLibrary(URL_, (s) => seedRuns(s, 'report'), SCHEMA)
      expect((await cliJson<{ id: number }[]>('runs', 'list')).map((r) => r.id)).toEqual([
        ids.queued,
        ids.done,
      ])
      expect(await cliJson('runs', 'show', String(ids.done))).toMatchObject({
        run: { status: 'SUCCESS', output: { sent: 3 } },
        steps: [{ stepKey: 'fetch', output: { rows: 3 } }],
      })
      expect(await cliJson('runs', 'cancel', String(ids.queued))).toMatchObject({
        status: 'CANCELLING',
      })
    })

    it('stats, purge and delete', async () => {
      expect(await cliJson('stats')).toMatchObject({
        queues: 3,
        workers: 1,
        pending: 3,
        delayed: 1,
      })
      expectError(await cliRaw('queue', 'delete', 'jobs'), /pass --force/)
      expect(await cliJson('queue', 'purge', 'jobs')).toEqual({ queue: 'jobs', purged: 2 })
      expect(await cliJson('queue', 'delete', 'jobs')).toEqual({ queue: 'jobs', deleted: true })
      expectError(await cliRaw('queue', 'get', 'jobs'), /does not exist/)
    })
  },
)
