// The schema's source of truth on the sqlite family: a fresh install, and an upgrade from every
// earlier schema level holding messages, runs and steps in every state, both end at exactly the
// committed packages/store-kysely/schema/sqlite.sql, and the upgrade keeps every row as it was.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { SqliteStore } from '../src/index.js'

const COMMITTED = readFileSync(
  fileURLToPath(new URL('../../store-kysely/schema/sqlite.sql', import.meta.url)),
  'utf8',
)
/** The committed file without its comment header: what `schemaDump()` returns. */
const committedDump = COMMITTED.replace(/^(--[^\n]*\n)+\n/, '')

const T = 1_767_225_600_000 // 2026-01-01T00:00:00Z
const FAR = 4_070_908_800_000 // 2099-01-01T00:00:00Z
const lease = (n: number) => n.toString(16).padStart(32, 'a')

/**
 * Rows in every state a 0001_baseline schema can hold, as frozen SQL for that level (never
 * regenerated: later levels must keep reading it).
 */
const SEED_0001 = [
  `insert into pgqrs_queues (id, name, created_at) values (1, 'jobs', ${T}), (2, 'flow', ${T + 1})`,
  `insert into pgqrs_workflows (id, name, queue_id, created_at) values (1, 'flow', 2, ${T + 2})`,
  `insert into pgqrs_workers (id, name, queue_id, hostname, pid, status, started_at, heartbeat_at,
     shutdown_at) values
   (1, 'w-ready', 1, 'h1', 11, 'ready', ${T}, ${T}, null),
   (2, 'w-polling', 1, 'h1', 12, 'polling', ${T}, ${T + 60}, null),
   (3, 'w-suspended', null, 'h2', 13, 'suspended', ${T}, ${T + 60}, null),
   (4, 'w-interrupted', 1, 'h2', 14, 'interrupted', ${T}, ${T + 60}, null),
   (5, 'w-stopped', 1, 'h3', 15, 'stopped', ${T}, ${T + 60}, ${T + 120})`,
  `insert into pgqrs_messages (id, queue_id, payload, priority, enqueued_at, visible_at, attempts,
     max_attempts, lease, consumer_id, producer_id, dedupe_key, last_error, dequeued_at) values
   (1, 1, '{"state":"pending"}', 0, ${T + 10}, ${T + 10}, 0, 5, null, null, 5, null, null, null),
   (2, 1, '{"state":"delayed"}', 3, ${T + 11}, ${FAR}, 0, 5, null, null, null, 'k-2', null, null),
   (3, 1, '{"state":"leased"}', 0, ${T + 12}, ${FAR}, 1, 5, '${lease(3)}', 2, null, null, null, ${T + 13}),
   (4, 1, '{"state":"retrying","n":[1,2.5,null,true]}', -1, ${T + 14}, ${FAR}, 2, 3, null, 2, null, null, 'boom: "quoted" \\ text', ${T + 15}),
   (5, 1, '"a bare string"', 0, ${T + 16}, ${T + 16}, 4, 5, '${lease(5)}', 2, null, null, null, ${T + 17}),
   (20, 2, '{"input":{"n":1}}', 0, ${T + 20}, ${T + 20}, 0, 5, null, null, null, null, null, null),
   (21, 2, '{"input":{"n":2}}', 0, ${T + 21}, ${FAR}, 1, 5, '${lease(21)}', 1, null, null, null, ${T + 22}),
   (22, 2, '{"input":{"n":3}}', 0, ${T + 23}, ${FAR}, 0, 5, null, null, null, null, null, ${T + 24}),
   (23, 2, '{"input":{"n":4}}', 0, ${T + 25}, ${FAR}, 0, 5, null, null, null, null, null, ${T + 26}),
   (24, 2, '{"input":{"n":5}}', 0, ${T + 27}, ${T + 27}, 1, 5, null, null, null, null, null, ${T + 28})`,
  `insert into pgqrs_archive (id, queue_id, payload, priority, enqueued_at, visible_at, attempts,
     max_attempts, lease, consumer_id, producer_id, dedupe_key, last_error, dequeued_at,
     archived_at, dead_at) values
   (6, 1, '{"state":"archived"}', 0, ${T + 30}, ${T + 31}, 1, 5, '${lease(6)}', 2, null, 'k-6', null, ${T + 31}, ${T + 32}, null),
   (7, 1, '{"state":"dead"}', 0, ${T + 33}, ${T + 34}, 5, 5, null, 2, null, null, 'lease expired on attempt 5 of 5', ${T + 34}, null, ${T + 35}),
   (25, 2, '{"input":{"n":6}}', 0, ${T + 36}, ${T + 37}, 1, 5, '${lease(25)}', 1, null, null, null, ${T + 37}, ${T + 38}, null),
   (26, 2, '{"input":{"n":7}}', 0, ${T + 39}, ${T + 40}, 1, 5, '${lease(26)}', 1, null, null, null, ${T + 40}, ${T + 41}, null),
   (27, 2, '{"input":{"n":8}}', 0, ${T + 42}, ${T + 43}, 1, 5, '${lease(27)}', 1, null, null, null, ${T + 43}, ${T + 44}, null)`,
  `insert into pgqrs_runs (id, workflow_id, message_id, status, input, output, error,
     idempotency_key, wake_at, created_at, updated_at, started_at, completed_at) values
   (1, 1, 20, 'QUEUED', '{"n":1}', null, null, 'idem-1', null, ${T + 20}, ${T + 20}, null, null),
   (2, 1, 21, 'RUNNING', '{"n":2}', null, null, null, null, ${T + 21}, ${T + 22}, ${T + 22}, null),
   (3, 1, 22, 'SLEEPING', '{"n":3}', null, null, null, ${FAR}, ${T + 23}, ${T + 24}, ${T + 24}, null),
   (4, 1, 23, 'PAUSED', '{"n":4}', null, '{"message":"waiting","resumeAfterMs":60000}', null, ${FAR}, ${T + 25}, ${T + 26}, ${T + 26}, null),
   (5, 1, 24, 'CANCELLING', '{"n":5}', null, null, null, null, ${T + 27}, ${T + 28}, ${T + 28}, null),
   (6, 1, 25, 'SUCCESS', '{"n":6}', '{"ok":true}', null, null, null, ${T + 36}, ${T + 38}, ${T + 37}, ${T + 38}),
   (7, 1, 26, 'ERROR', '{"n":7}', null, '{"name":"Error","message":"boom","transient":false}', null, null, ${T + 39}, ${T + 41}, ${T + 40}, ${T + 41}),
   (8, 1, 27, 'CANCELLED', '{"n":8}', null, null, null, null, ${T + 42}, ${T + 44}, ${T + 43}, ${T + 44})`,
  `insert into pgqrs_steps (id, run_id, step_key, status, output, error, retry_count, retry_at,
     created_at, started_at, completed_at) values
   (1, 2, 'one', 'SUCCESS', '{"v":1}', null, 0, null, ${T + 22}, ${T + 22}, ${T + 23}),
   (2, 2, 'two', 'RUNNING', null, null, 0, null, ${T + 23}, ${T + 23}, null),
   (3, 3, 'nap', 'SUCCESS', '{"wakeAt":${FAR}}', null, 0, null, ${T + 24}, ${T + 24}, ${T + 24}),
   (4, 4, 'approve', 'ERROR', null, '{"name":"PausedError","message":"waiting"}', 1, ${FAR}, ${T + 26}, ${T + 26}, ${T + 26}),
   (5, 7, 'charge', 'ERROR', null, '{"name":"Error","message":"boom"}', 3, null, ${T + 40}, ${T + 40}, ${T + 41}),
   (6, 7, 'charge#2', 'SUCCESS', 'null', null, 0, null, ${T + 40}, ${T + 40}, ${T + 40})`,
]

/** Seeds per schema level: the seed of the newest level at or below it is used. */
const SEEDS: Readonly<Record<string, readonly string[]>> = { '0001_baseline': SEED_0001 }

const TABLES = [
  'pgqrs_queues',
  'pgqrs_workflows',
  'pgqrs_workers',
  'pgqrs_messages',
  'pgqrs_archive',
  'pgqrs_runs',
  'pgqrs_steps',
]

const dir = mkdtempSync(join(tmpdir(), 'pgqrs-schema-'))
const stores: SqliteStore[] = []
afterAll(async () => {
  for (const s of stores) await s.close()
  rmSync(dir, { recursive: true, force: true })
})

function freshStore(): SqliteStore {
  const store = new SqliteStore({ path: join(dir, `${stores.length}.db`), logger: false })
  stores.push(store)
  return store
}

/** Every row of every pgqrs table, keyed by table, ordered by id. */
function snapshot(store: SqliteStore): Record<string, Record<string, unknown>[]> {
  const out: Record<string, Record<string, unknown>[]> = {}
  for (const table of TABLES) {
    out[table] = store.database.prepare(`select * from ${table} order by id`).all() as Record<
      string,
      unknown
    >[]
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

describe('sqlite: the schema', () => {
  it('a fresh install produces exactly the committed schema/sqlite.sql', async () => {
    const store = freshStore()
    await store.migrate()
    expect(await store.schemaDump()).toBe(committedDump)
    expect(await store.schemaStatus()).toMatchObject({ state: 'current', pending: [], unknown: [] })
  })

  it('an upgrade from every earlier level, with rows in every state, ends at the committed schema and keeps every row', async () => {
    const known = freshStore().knownMigrations()
    const earlier = known.slice(0, -1)
    // the machinery is only proven when there is an earlier level to upgrade from
    expect(earlier.length).toBeGreaterThan(0)
    for (const level of earlier) {
      const s = freshStore()
      await s.migrateTo(level)
      expect(await s.migrations()).toEqual(known.slice(0, known.indexOf(level) + 1))
      expect((await s.schemaStatus()).state).toBe('older')
      const seed = SEEDS[known.filter((n, i) => i <= known.indexOf(level) && SEEDS[n]).at(-1)!]!
      for (const statement of seed) s.database.prepare(statement).run()
      const before = snapshot(s)
      expect(before.pgqrs_messages).toHaveLength(10)
      await s.migrate()
      expect(await s.migrations()).toEqual(known)
      expect(await s.schemaDump(), `upgraded from ${level}`).toBe(committedDump)
      expect(keptColumns(before, snapshot(s)), `rows after upgrading from ${level}`).toEqual(before)
    }
  })
})
