import { fileURLToPath } from 'node:url'
import * as pgqrs from 'pgqrs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventually, startApp, tempSqlite } from '../../test-support/app-process.ts'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

describe('apps/queue-worker (a real process on a SQLite file)', () => {
  let db: ReturnType<typeof tempSqlite>
  let store: pgqrs.Store

  beforeEach(async () => {
    db = tempSqlite()
    store = await pgqrs.connect(db.dsn, { logger: false })
    await pgqrs.admin(store).install()
    await store.queue('tasks')
  })
  afterEach(async () => {
    await store.close()
    db.remove()
  })

  const env = (extra: Record<string, string> = {}) => ({
    PGQRS_DSN: db.dsn,
    PGQRS_POLL_INTERVAL_MS: '50',
    QUEUE: 'tasks',
    CONCURRENCY: '4',
    ...extra,
  })
  const state = (state: 'pending' | 'leased' | 'archived' | 'dead') =>
    store.messages.list('tasks', { state })

  it('completes jobs, dead-letters a failing one, and on SIGTERM lets a running job finish, exit 0', async () => {
    const app = startApp(MAIN, env({ GRACE_MS: '5000' }))
    await app.waitForLine(/ready: queue=tasks/)
    const producer = await store.producer('tasks')
    const jobs = await producer.enqueueMany(
      Array.from({ length: 20 }, (_, i) => ({ task: `resize-${i}`, workMs: 5 })),
    )
    const bad = await producer.enqueue({ task: 'broken', fail: true }, { maxAttempts: 1 })
    await eventually(async () => (await state('archived')).length === 20, '20 archived jobs')
    await eventually(async () => (await state('dead')).length === 1, 'one dead letter')
    expect((await state('archived')).map((m) => m.id).sort((a, b) => a - b)).toEqual(
      jobs.map((m) => m.id),
    )
    const [dead] = await pgqrs.admin(store).deadLetters('tasks')
    expect(dead?.id).toBe(bad.id)
    expect(dead?.lastError).toContain('failed on purpose')

    const slow = await producer.enqueue({ task: 'slow', workMs: 1_500 })
    await app.waitForLine(new RegExp(`start id=${slow.id} `))
    app.child.kill('SIGTERM')
    expect(await app.exited()).toEqual({ code: 0, signal: null })
    // the running job finished within the grace period and was archived; nothing is left leased
    expect((await store.messages.get(slow.id))?.archivedAt).toBeInstanceOf(Date)
    expect(await state('leased')).toEqual([])
    expect(app.output()).toMatch(/SIGTERM: stopping \(grace 5000 ms, 1 running\)/)
    expect(app.output()).toContain(`done id=${slow.id}`)
    expect(app.output()).toContain('queue-worker: stopped')
  })

  it('on SIGTERM past GRACE_MS, aborts the running job and releases it for another worker', async () => {
    const app = startApp(MAIN, env({ GRACE_MS: '200' }))
    await app.waitForLine(/ready:/)
    const producer = await store.producer('tasks')
    const long = await producer.enqueue({ task: 'long', workMs: 20_000 })
    await app.waitForLine(new RegExp(`start id=${long.id} `))
    const t0 = Date.now()
    app.child.kill('SIGTERM')
    expect(await app.exited()).toEqual({ code: 0, signal: null })
    expect(Date.now() - t0).toBeLessThan(5_000)
    const m = await store.messages.get(long.id)
    expect(m?.archivedAt).toBeNull()
    expect(m?.lease).toBeNull()
    expect(m?.attempts).toBe(0) // a released delivery is not counted
    expect((await state('pending')).map((x) => x.id)).toEqual([long.id])
    expect(await state('leased')).toEqual([])
  })

  it('refuses to start without PGQRS_DSN and says what to set', async () => {
    const app = startApp(MAIN, { PGQRS_DSN: '' })
    const { code } = await app.exited()
    expect(code).not.toBe(0)
    expect(app.output()).toContain('Set PGQRS_DSN')
  })
})
