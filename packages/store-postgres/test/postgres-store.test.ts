import { ConnectionError, connect } from '@pgqrs/core'
import '@pgqrs/queue'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStore } from '../src/index.js'
import { pgUrl, postgresHarness } from './harness.js'

const waitFor = async (check: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe.runIf(pgUrl)('postgres: PostgresStore specifics', () => {
  let store: PostgresStore
  beforeAll(async () => {
    store = (await postgresHarness.create({ config: { maxConnections: 3 } })) as PostgresStore
    await store.queue('ls')
  })
  afterAll(async () => {
    await postgresHarness.destroy(store)
  })

  it('listen/close cycles reuse one pooled client and never leak it', async () => {
    for (let i = 0; i < 8; i++) {
      let got = 0
      const sub = await store.listen(['ls'], () => got++)
      await store.messages.enqueue('ls', [{ payload: i }])
      await waitFor(() => got > 0)
      await sub!.close()
      expect(store.pool.totalCount).toBeLessThanOrEqual(3)
      expect(store.pool.waitingCount).toBe(0)
    }
    // the pool still serves plain queries, and the LISTEN client has no leftover listeners
    expect((await store.queues.list()).map((q) => q.name)).toContain('ls')
    expect(store.notificationsWorking).toBe(true)
  })

  it('listenUrl: LISTEN runs on its own connection, outside the pool', async () => {
    const other = new PostgresStore({
      connectionString: pgUrl,
      listenUrl: pgUrl,
      schema: store.config.schema,
      logger: false,
    })
    try {
      let got = 0
      const sub = await other.listen(['ls'], () => got++)
      expect(other.pool.totalCount).toBeLessThanOrEqual(1) // only the self-test's NOTIFY used the pool
      await store.messages.enqueue('ls', [{ payload: 'x' }])
      await waitFor(() => got > 0)
      await sub!.close()
    } finally {
      await other.close()
    }
  })

  it('a pool passed in is never closed by the store', async () => {
    const pg = await import('pg')
    const pool = new pg.default.Pool({ connectionString: pgUrl, max: 2 })
    const shared = new PostgresStore({ pool, schema: store.config.schema, logger: false })
    await shared.queues.list()
    await shared.close()
    await shared.close() // safe twice
    const r = await pool.query('select 1 as one')
    expect(r.rows[0].one).toBe(1)
    await pool.end()
  })

  it('enqueue with tx: a raw pg client inside BEGIN; invisible to others until commit', async () => {
    await store.queue('tx-pg')
    const producer = await store.producer('tx-pg')
    const c = await store.pool.connect()
    try {
      await c.query('begin')
      const rolledBack = await producer.enqueue({ n: 'rolled back' }, { tx: c })
      await c.query('rollback')
      expect(await store.messages.get(rolledBack.id)).toBeNull()

      await c.query('begin')
      const m = await producer.enqueue({ n: 'committed' }, { tx: c })
      // Not visible to the pool's other connections before the caller commits.
      expect(await store.messages.get(m.id)).toBeNull()
      expect(await (await store.consumer('tx-pg')).dequeue()).toEqual([])
      await c.query('commit')
      expect((await store.messages.get(m.id))?.payload).toEqual({ n: 'committed' })
    } finally {
      await c.query('rollback').catch(() => {})
      c.release()
    }
  })

  // The test's own timeout is the bound: a connect that waited out the OS's TCP timeout would fail it.
  it('connect to an unreachable postgres throws ConnectionError', { timeout: 5_000 }, async () => {
    const e = await connect('postgres://127.0.0.1:1/x', {
      connectTimeoutMs: 500,
      logger: false,
    }).then(
      () => null,
      (err: unknown) => err,
    )
    expect(ConnectionError.is(e)).toBe(true)
  })
})
