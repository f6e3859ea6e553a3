// The schema's source of truth: a fresh install, and an upgrade from every earlier schema level
// holding messages, runs and steps in every state, both end at exactly the committed
// packages/store-kysely/schema/postgres.sql, and the upgrade keeps every row as it was.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { PostgresStore } from '../src/index.js'
import { pgUrl } from './harness.js'

const COMMITTED = readFileSync(
  fileURLToPath(new URL('../../store-kysely/schema/postgres.sql', import.meta.url)),
  'utf8',
)
/** The committed file without its comment header: what `schemaDump()` returns. */
const committedDump = COMMITTED.replace(/^(--[^\n]*\n)+\n/, '')

/**
 * Rows in every state a 0001_baseline schema can hold, as frozen SQL for that level (never
 * regenerated: later levels must keep reading it). `{{schema}}` is the quoted schema.
 */
const SEED_0001 = `
insert into {{schema}}.pgqrs_queues (id, name, created_at) values
  (1, 'jobs', '2026-01-01T00:00:00Z'), (2, 'flow', '2026-01-01T00:00:01Z');
insert into {{schema}}.pgqrs_workflows (id, name, queue_id, created_at) values
  (1, 'flow', 2, '2026-01-01T00:00:02Z');
insert into {{schema}}.pgqrs_workers (id, name, queue_id, hostname, pid, status, started_at,
    heartbeat_at, shutdown_at) values
  (1, 'w-ready', 1, 'h1', 11, 'ready', '2026-01-01T00:01:00Z', '2026-01-01T00:01:00Z', null),
  (2, 'w-polling', 1, 'h1', 12, 'polling', '2026-01-01T00:01:00Z', '2026-01-01T00:02:00Z', null),
  (3, 'w-suspended', null, 'h2', 13, 'suspended', '2026-01-01T00:01:00Z', '2026-01-01T00:02:00Z', null),
  (4, 'w-interrupted', 1, 'h2', 14, 'interrupted', '2026-01-01T00:01:00Z', '2026-01-01T00:02:00Z', null),
  (5, 'w-stopped', 1, 'h3', 15, 'stopped', '2026-01-01T00:01:00Z', '2026-01-01T00:02:00Z', '2026-01-01T00:03:00Z');
insert into {{schema}}.pgqrs_messages (id, queue_id, payload, priority, enqueued_at, visible_at,
    attempts, max_attempts, lease, consumer_id, producer_id, dedupe_key, last_error, dequeued_at) values
  (1, 1, '{"state": "pending"}', 0, '2026-01-01T00:00:10Z', '2026-01-01T00:00:10Z', 0, 5, null, null, 5, null, null, null),
  (2, 1, '{"state": "delayed"}', 3, '2026-01-01T00:00:11Z', '2099-01-01T00:00:00Z', 0, 5, null, null, null, 'k-2', null, null),
  (3, 1, '{"state": "leased"}', 0, '2026-01-01T00:00:12Z', '2099-01-01T00:00:00Z', 1, 5, 'a0000000-0000-4000-8000-000000000003', 2, null, null, null, '2026-01-01T00:00:13Z'),
  (4, 1, '{"state": "retrying", "n": [1, 2.5, null, true]}', -1, '2026-01-01T00:00:14Z', '2099-01-01T00:00:00Z', 2, 3, null, 2, null, null, 'boom: "quoted" \\ text', '2026-01-01T00:00:15Z'),
  (5, 1, '"a bare string"', 0, '2026-01-01T00:00:16Z', '2026-01-01T00:00:16Z', 4, 5, 'a0000000-0000-4000-8000-000000000005', 2, null, null, null, '2026-01-01T00:00:17Z'),
  (20, 2, '{"input": {"n": 1}}', 0, '2026-01-01T00:00:20Z', '2026-01-01T00:00:20Z', 0, 5, null, null, null, null, null, null),
  (21, 2, '{"input": {"n": 2}}', 0, '2026-01-01T00:00:21Z', '2099-01-01T00:00:00Z', 1, 5, 'a0000000-0000-4000-8000-000000000021', 1, null, null, null, '2026-01-01T00:00:22Z'),
  (22, 2, '{"input": {"n": 3}}', 0, '2026-01-01T00:00:23Z', '2099-01-01T00:00:00Z', 0, 5, null, null, null, null, null, '2026-01-01T00:00:24Z'),
  (23, 2, '{"input": {"n": 4}}', 0, '2026-01-01T00:00:25Z', '2099-01-01T00:00:00Z', 0, 5, null, null, null, null, null, '2026-01-01T00:00:26Z'),
  (24, 2, '{"input": {"n": 5}}', 0, '2026-01-01T00:00:27Z', '2026-01-01T00:00:27Z', 1, 5, null, null, null, null, null, '2026-01-01T00:00:28Z');
insert into {{schema}}.pgqrs_archive (id, queue_id, payload, priority, enqueued_at, visible_at,
    attempts, max_attempts, lease, consumer_id, producer_id, dedupe_key, last_error, dequeued_at,
    archived_at, dead_at) values
  (6, 1, '{"state": "archived"}', 0, '2026-01-01T00:00:30Z', '2026-01-01T00:00:31Z', 1, 5, 'a0000000-0000-4000-8000-000000000006', 2, null, 'k-6', null, '2026-01-01T00:00:31Z', '2026-01-01T00:00:32Z', null),
  (7, 1, '{"state": "dead"}', 0, '2026-01-01T00:00:33Z', '2026-01-01T00:00:34Z', 5, 5, null, 2, null, null, 'lease expired on attempt 5 of 5', '2026-01-01T00:00:34Z', null, '2026-01-01T00:00:35Z'),
  (25, 2, '{"input": {"n": 6}}', 0, '2026-01-01T00:00:36Z', '2026-01-01T00:00:37Z', 1, 5, 'a0000000-0000-4000-8000-000000000025', 1, null, null, null, '2026-01-01T00:00:37Z', '2026-01-01T00:00:38Z', null),
  (26, 2, '{"input": {"n": 7}}', 0, '2026-01-01T00:00:39Z', '2026-01-01T00:00:40Z', 1, 5, 'a0000000-0000-4000-8000-000000000026', 1, null, null, null, '2026-01-01T00:00:40Z', '2026-01-01T00:00:41Z', null),
  (27, 2, '{"input": {"n": 8}}', 0, '2026-01-01T00:00:42Z', '2026-01-01T00:00:43Z', 1, 5, 'a0000000-0000-4000-8000-000000000027', 1, null, null, null, '2026-01-01T00:00:43Z', '2026-01-01T00:00:44Z', null);
insert into {{schema}}.pgqrs_runs (id, workflow_id, message_id, status, input, output, error,
    idempotency_key, wake_at, created_at, updated_at, started_at, completed_at) values
  (1, 1, 20, 'QUEUED', '{"n": 1}', null, null, 'idem-1', null, '2026-01-01T00:00:20Z', '2026-01-01T00:00:20Z', null, null),
  (2, 1, 21, 'RUNNING', '{"n": 2}', null, null, null, null, '2026-01-01T00:00:21Z', '2026-01-01T00:00:22Z', '2026-01-01T00:00:22Z', null),
  (3, 1, 22, 'SLEEPING', '{"n": 3}', null, null, null, '2099-01-01T00:00:00Z', '2026-01-01T00:00:23Z', '2026-01-01T00:00:24Z', '2026-01-01T00:00:24Z', null),
  (4, 1, 23, 'PAUSED', '{"n": 4}', null, '{"message": "waiting", "resumeAfterMs": 60000}', null, '2099-01-01T00:00:00Z', '2026-01-01T00:00:25Z', '2026-01-01T00:00:26Z', '2026-01-01T00:00:26Z', null),
  (5, 1, 24, 'CANCELLING', '{"n": 5}', null, null, null, null, '2026-01-01T00:00:27Z', '2026-01-01T00:00:28Z', '2026-01-01T00:00:28Z', null),
  (6, 1, 25, 'SUCCESS', '{"n": 6}', '{"ok": true}', null, null, null, '2026-01-01T00:00:36Z', '2026-01-01T00:00:38Z', '2026-01-01T00:00:37Z', '2026-01-01T00:00:38Z'),
  (7, 1, 26, 'ERROR', '{"n": 7}', null, '{"name": "Error", "message": "boom", "transient": false}', null, null, '2026-01-01T00:00:39Z', '2026-01-01T00:00:41Z', '2026-01-01T00:00:40Z', '2026-01-01T00:00:41Z'),
  (8, 1, 27, 'CANCELLED', '{"n": 8}', null, null, null, null, '2026-01-01T00:00:42Z', '2026-01-01T00:00:44Z', '2026-01-01T00:00:43Z', '2026-01-01T00:00:44Z');
insert into {{schema}}.pgqrs_steps (id, run_id, step_key, status, output, error, retry_count,
    retry_at, created_at, started_at, completed_at) values
  (1, 2, 'one', 'SUCCESS', '{"v": 1}', null, 0, null, '2026-01-01T00:00:22Z', '2026-01-01T00:00:22Z', '2026-01-01T00:00:23Z'),
  (2, 2, 'two', 'RUNNING', null, null, 0, null, '2026-01-01T00:00:23Z', '2026-01-01T00:00:23Z', null),
  (3, 3, 'nap', 'SUCCESS', '{"wakeAt": 4070908800000}', null, 0, null, '2026-01-01T00:00:24Z', '2026-01-01T00:00:24Z', '2026-01-01T00:00:24Z'),
  (4, 4, 'approve', 'ERROR', null, '{"name": "PausedError", "message": "waiting"}', 1, '2099-01-01T00:00:00Z', '2026-01-01T00:00:26Z', '2026-01-01T00:00:26Z', '2026-01-01T00:00:26Z'),
  (5, 7, 'charge', 'ERROR', null, '{"name": "Error", "message": "boom"}', 3, null, '2026-01-01T00:00:40Z', '2026-01-01T00:00:40Z', '2026-01-01T00:00:41Z'),
  (6, 7, 'charge#2', 'SUCCESS', 'null', null, 0, null, '2026-01-01T00:00:40Z', '2026-01-01T00:00:40Z', '2026-01-01T00:00:40Z');
`

/** Seeds per schema level: the seed of the newest level at or below it is used. */
const SEEDS: Readonly<Record<string, string>> = { '0001_baseline': SEED_0001 }

const TABLES = [
  'pgqrs_queues',
  'pgqrs_workflows',
  'pgqrs_workers',
  'pgqrs_messages',
  'pgqrs_archive',
  'pgqrs_runs',
  'pgqrs_steps',
]

const stores: PostgresStore[] = []
afterAll(async () => {
  for (const s of stores) {
    await s.pool.query(`drop schema if exists "${s.config.schema}" cascade`)
    await s.close()
  }
})

function freshStore(): PostgresStore {
  const schema = `pgqrs_schema_${randomBytes(5).toString('hex')}`
  const store = new PostgresStore({ connectionString: pgUrl, schema, logger: false })
  stores.push(store)
  return store
}

/** Every row of every pgqrs table, as JSON, keyed by table then id. */
async function snapshot(store: PostgresStore): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {}
  for (const table of TABLES) {
    const r = await store.pool.query(
      `select to_jsonb(t) as row from "${store.config.schema}".${table} t order by t.id`,
    )
    out[table] = r.rows.map((x: { row: Record<string, unknown> }) => x.row)
  }
  return out
}

/** `after` restricted to the columns `before` had: an upgrade may add columns, never change a value. */
function keptColumns(
  before: Record<string, Record<string, unknown>[]>,
  after: Record<string, Record<string, unknown>[]>,
) {
  const out: Record<string, Record<string, unknown>[]> = {}
  for (const [table, rows] of Object.entries(after)) {
    const columns = Object.keys(before[table]?.[0] ?? {})
    out[table] = rows.map((row) => Object.fromEntries(columns.map((c) => [c, row[c]])))
  }
  return out
}

describe.runIf(pgUrl)('postgres: the schema', () => {
  it('a fresh install produces exactly the committed schema/postgres.sql', async () => {
    const store = freshStore()
    await store.migrate()
    expect(await store.schemaDump()).toBe(committedDump)
    expect(await store.schemaStatus()).toMatchObject({ state: 'current', pending: [], unknown: [] })
  })

  it('an upgrade from every earlier level, with rows in every state, ends at the committed schema and keeps every row', async () => {
    const store = freshStore()
    const known = store.knownMigrations()
    const earlier = known.slice(0, -1)
    // the machinery is only proven when there is an earlier level to upgrade from
    expect(earlier.length).toBeGreaterThan(0)
    for (const level of earlier) {
      const s = freshStore()
      await s.migrateTo(level)
      expect(await s.migrations()).toEqual(known.slice(0, known.indexOf(level) + 1))
      expect((await s.schemaStatus()).state).toBe('older')
      const seed = SEEDS[known.filter((n, i) => i <= known.indexOf(level) && SEEDS[n]).at(-1)!]!
      await s.pool.query(seed.replaceAll('{{schema}}', `"${s.config.schema}"`))
      const before = await snapshot(s)
      expect(before.pgqrs_messages).toHaveLength(10)
      await s.migrate()
      expect(await s.migrations()).toEqual(known)
      expect(await s.schemaDump(), `upgraded from ${level}`).toBe(committedDump)
      expect(keptColumns(before, await snapshot(s)), `rows after upgrading from ${level}`).toEqual(
        before,
      )
    }
  })
})
