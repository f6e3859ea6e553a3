import { fileURLToPath } from 'node:url'
import * as pgqrs from 'pgqrs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventually, startApp, tempSqlite } from '../../test-support/app-process.ts'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const ALICE = 'alice-token-123'
const BOB = 'bob-token-4567'

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
      API_TOKENS: `alice:${ALICE},bob:${BOB}`,
      ...extra,
    })
    const [, base] = await app.waitForLine(/listening on (http:\/\/\S+)/)
    const post = (body: unknown, query = '', token: string | null = ALICE) =>
      fetch(`${base}/jobs${query}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify(body),
      })
    const get = async (id: number | string, token: string | null = ALICE) => {
      const res = await fetch(`${base}/jobs/${id}`, {
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
      })
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
    expect((await store.messages.get(id))?.payload).toEqual({
      owner: 'alice',
      body: { report: 'daily', workMs: 10 },
    })
    await eventually(async () => (await get(id)).body.state === 'archived', `job ${id} archived`)
    expect(await get(id)).toMatchObject({
      status: 200,
      body: { id, state: 'archived', attempts: 1 },
    })

    expect((await get(999_999)).status).toBe(404)
    // ids are parsed strictly: no exponent, sign, leading zero, fraction or huge number
    for (const bad of ['abc', '1e3', '+1', '01', '1.0', '99999999999999999999'])
      expect((await get(bad)).status, bad).toBe(404)
    // a delayed job reports delayed; a payload pgqrs refuses is a 400 that says why
    const delayed = (await (await post({ later: true }, '?delayMs=60000')).json()) as { id: number }
    expect((await get(delayed.id)).body.state).toBe('delayed')
    const bad = await post({ constructor: { x: 1 } })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toMatch(/constructor/)

    app.child.kill('SIGTERM')
    expect(await app.exited()).toEqual({ code: 0, signal: null })
  })

  it('every route but /healthz needs a caller; a job is readable only by the caller that created it', async () => {
    const { app, base, post, get } = await start()
    expect((await post({ n: 1 }, '', null)).status).toBe(401)
    expect((await post({ n: 1 }, '', 'not-a-token')).status).toBe(401)
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    const { id } = (await (await post({ mine: true })).json()) as { id: number }
    expect((await get(id)).status).toBe(200)
    // bob cannot read alice's job, nor learn that it exists
    expect(await get(id, BOB)).toEqual({ status: 404, body: { error: `no job ${id}` } })
    expect((await get(id, null)).status).toBe(401)
    app.child.kill('SIGTERM')
    expect(await app.exited()).toEqual({ code: 0, signal: null })
  })

  it('numbers out of range or not whole are a 400 naming the range, and nothing is enqueued', async () => {
    const { app, post } = await start()
    for (const [query, body, field] of [
      ['?priority=101', {}, 'priority'],
      ['?priority=1.5', {}, 'priority'],
      ['?priority=0x10', {}, 'priority'],
      ['?delayMs=-1', {}, 'delayMs'],
      ['?delayMs=86400001', {}, 'delayMs'],
      ['?delayMs=1e9', {}, 'delayMs'],
      ['', { workMs: 60_001 }, 'workMs'],
      ['', { workMs: 'slow' }, 'workMs'],
    ] as const) {
      const res = await post(body, query)
      expect(res.status, `${query} ${JSON.stringify(body)}`).toBe(400)
      expect(((await res.json()) as { error: string }).error).toContain(field)
    }
    expect(await store.messages.list('jobs')).toEqual([])
    app.child.kill('SIGTERM')
    expect(await app.exited()).toEqual({ code: 0, signal: null })
  })

  it('an internal failure answers a generic 500 with a request id; the details are only in the log', async () => {
    const { app, post } = await start()
    // the queue disappears under the service: enqueueing fails, not because of the request
    await pgqrs.admin(store).deleteQueue('jobs', { force: true })
    const res = await post({ n: 1 })
    expect(res.status).toBe(500)
    const body = (await res.json()) as { error: string; requestId: string }
    expect(body.error).toBe('internal error')
    expect(Object.keys(body).sort()).toEqual(['error', 'requestId'])
    expect(JSON.stringify(body)).not.toMatch(/Queue|jobs|at |\.ts/)
    await app.waitForLine(
      new RegExp(`request ${body.requestId} failed: .*Queue "jobs" does not exist`),
    )
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
