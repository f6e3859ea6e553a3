import { fileURLToPath } from 'node:url'
import * as pgqrs from 'pgqrs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventually, startApp, tempSqlite } from '../../test-support/app-process.ts'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

describe('apps/http-service (a real process on a SQLite file)', () => {
  let db: ReturnType<typeof tempSqlite>
  let store: pgqrs.Store

  beforeEach(async () => {
    db = tempSqlite()
    store = await pgqrs.connect(db.dsn, { logger: false })
  })
  afterEach(async () => {
    await store.close()
    db.remove()
  })

  async function start(extra: Record<string, string> = {}) {
    const app = startApp(MAIN, {
      PGQRS_DSN: db.dsn,
      PGQRS_POLL_INTERVAL_MS: '50',
      PORT: '0',
      QUEUE: 'jobs',
      ...extra,
    })
    const [, base] = await app.waitForLine(/listening on (http:\/\/\S+)/)
    const post = (body: unknown, query = '') =>
      fetch(`${base}/jobs${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const get = async (id: number | string) => {
      const res = await fetch(`${base}/jobs/${id}`)
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }
    return { app, base: base!, post, get }
  }

  it('POST /jobs → 202 { id }; GET /jobs/:id follows it to archived; unknown ids are 404', async () => {
    const { app, post, get } = await start()
    const res = await post({ report: 'daily', workMs: 10 })
    expect(res.status).toBe(202)
    const { id } = (await res.json()) as { id: number }
    expect(Number.isInteger(id)).toBe(true)
    expect((await store.messages.get(id))?.payload).toEqual({ report: 'daily', workMs: 10 })
    await eventually(async () => (await get(id)).body.state === 'archived', `job ${id} archived`)
    expect(await get(id)).toMatchObject({
      status: 200,
      body: { id, state: 'archived', attempts: 1 },
    })

    expect((await get(999_999)).status).toBe(404)
    expect((await get('abc')).status).toBe(404)
    // a delayed job reports delayed; a payload pgqrs refuses is a 400 that says why
    const delayed = (await (await post({ later: true }, '?delayMs=60000')).json()) as { id: number }
    expect((await get(delayed.id)).body.state).toBe('delayed')
    const bad = await post({ constructor: { x: 1 } })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toMatch(/constructor/)

    app.child.kill('SIGTERM')
    expect(await app.exited()).toEqual({ code: 0, signal: null })
  })

  it('SIGTERM closes the server and drains the worker: exit 0, the running job archived, none leased', async () => {
    const { app, base, post, get } = await start({ GRACE_MS: '10000' })
    const { id } = (await (await post({ workMs: 1_200 })).json()) as { id: number }
    await eventually(async () => (await get(id)).body.state === 'leased', `job ${id} leased`)
    app.child.kill('SIGTERM')
    await app.waitForLine(/SIGTERM: closing the server/)
    // the server no longer accepts requests while the worker drains
    await eventually(
      () =>
        fetch(`${base}/healthz`).then(
          () => false,
          () => true,
        ),
      'the server to refuse connections',
    )
    expect(await app.exited()).toEqual({ code: 0, signal: null })
    expect(app.output()).toContain(`done id=${id}`)
    expect((await store.messages.get(id))?.archivedAt).toBeInstanceOf(Date)
    expect(await store.messages.list('jobs', { state: 'leased' })).toEqual([])
  })
})
