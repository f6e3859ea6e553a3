import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { admin } from '@pgqrs/queue'
import { PostgresStore } from '@pgqrs/store-postgres'
import { TursoStore } from '@pgqrs/store-turso'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createDashboard,
  type Dashboard,
  type DashboardSource,
  storeSource,
} from '../dist/index.js'
import { PG_URL, pgSkipReason, sqliteStore, type TestStore } from './harness.js'
import { type StaticSeed, seedStatic } from './seed.js'

let ts: TestStore
let data: StaticSeed
let dashboard: Dashboard

beforeAll(async () => {
  ts = await sqliteStore()
  data = await seedStatic(ts.store)
  dashboard = createDashboard({ store: ts.store, basePath: '/d' })
})
afterAll(async () => {
  dashboard?.close()
  await ts?.destroy()
})

const get = (d: Dashboard, path: string, headers: Record<string, string> = {}) =>
  d.fetch(new Request(`http://localhost${path}`, { headers }))

/** Every page of the seeded data. */
function pages(): string[] {
  const { reports, run } = data
  return [
    '/d',
    '/d/',
    '/d/queues/reports',
    '/d/queues/reports?state=dead',
    '/d/queues/reports?state=archived',
    `/d/messages/${reports.dead}`,
    `/d/messages/${reports.pending}`,
    '/d/runs',
    '/d/runs?status=QUEUED&workflow=nightly-report',
    `/d/runs/${run}`,
    '/d/workers',
  ]
}

describe('pages', () => {
  it('answer 200 with escaped HTML and the security headers', async () => {
    for (const path of pages()) {
      const r = await get(dashboard, path)
      const text = await r.text()
      expect(r.status, path).toBe(200)
      expect(r.headers.get('content-type')).toMatch(/^text\/html/)
      expect(r.headers.get('content-security-policy')).toMatch(
        /script-src 'self'; style-src 'self'/,
      )
      expect(r.headers.get('x-frame-options')).toBe('DENY')
      expect(r.headers.get('cache-control')).toBe('no-store')
      expect(text, path).not.toContain('<script>window')
      expect(text, path).not.toContain('<img src=x')
      expect(text).toMatch(/^<!doctype html>/)
    }
    const message = await (await get(dashboard, `/d/messages/${data.reports.dead}`)).text()
    expect(message).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;')
  })

  it('answers a live refresh with the live part only', async () => {
    const r = await get(dashboard, '/d/workers', { 'HX-Request': 'true', 'HX-Target': 'live' })
    const text = await r.text()
    expect(text).toMatch(/^<div id="live"/)
    expect(text).toContain('idle-1')
    expect(r.headers.get('vary')).toMatch(/HX-Request/)
  })

  it('serves its static files (htmx from npm) with a long cache, and 404s elsewhere', async () => {
    const home = await (await get(dashboard, '/d/')).text()
    const scripts = [...home.matchAll(/(?:src|href)="(\/d\/assets\/[^"]+)"/g)].map((m) => m[1]!)
    expect(scripts).toHaveLength(3)
    for (const path of scripts) {
      const r = await get(dashboard, path)
      expect(r.status, path).toBe(200)
      expect(r.headers.get('cache-control')).toMatch(/immutable/)
    }
    const htmx = await (await get(dashboard, scripts.find((s) => s.includes('htmx'))!)).text()
    expect(htmx).toMatch(/^var htmx=/)
    expect((await get(dashboard, '/d/nope')).status).toBe(404)
    expect((await get(dashboard, '/d/messages/999999')).status).toBe(404)
    expect((await get(dashboard, '/d/messages/abc')).status).toBe(404)
    expect((await get(dashboard, '/d/queues/no-such-queue')).status).toBe(404)
    const outside = await get(dashboard, '/elsewhere')
    expect(outside.status).toBe(404)
    expect(await outside.text()).toBe('404 Not Found') // nothing about the store outside the base
  })

  it('refuses methods other than GET, HEAD and POST', async () => {
    const r = await dashboard.fetch(new Request('http://localhost/d/workers', { method: 'DELETE' }))
    expect(r.status).toBe(405)
  })
})

/** A source that counts the calls of every method. */
function counting(source: DashboardSource): {
  source: DashboardSource
  calls: Map<string, number>
} {
  const calls = new Map<string, number>()
  const proxy = new Proxy(source, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls.set(String(key), (calls.get(String(key)) ?? 0) + 1)
        return value.apply(target, args)
      }
    },
  })
  return { source: proxy, calls }
}

describe('bounded reads', () => {
  it('a page view makes a fixed number of calls, each with a limit, whatever the row count', async () => {
    const producer = await ts.store.producer('reports')
    await producer.enqueueMany(Array.from({ length: 120 }, (_, i) => ({ n: i })))
    const { source, calls } = counting(storeSource(ts.store))
    const limits: number[] = []
    const spy: DashboardSource = {
      ...source,
      messages(q, o) {
        limits.push(o.limit)
        return source.messages(q, o)
      },
      runs(o) {
        limits.push(o.limit)
        return source.runs(o)
      },
      workers(o) {
        limits.push(o.limit)
        return source.workers(o)
      },
      steps(id, o) {
        limits.push(o.limit)
        return source.steps(id, o)
      },
      runChildren(id, o) {
        limits.push(o.limit)
        return source.runChildren!(id, o)
      },
    }
    const d = createDashboard({ source: spy, basePath: '/d', pageSize: 25 })
    try {
      for (const path of pages()) {
        calls.clear()
        const r = await get(d, path)
        expect(r.status, path).toBe(200)
        const total = [...calls.values()].reduce((a, b) => a + b, 0)
        // the run page reads five things: the run, its steps, events, values and children
        expect(total, `${path}: ${JSON.stringify([...calls])}`).toBeLessThanOrEqual(5)
      }
      expect(Math.max(...limits)).toBeLessThanOrEqual(500)
      const html = await (await get(d, '/d/queues/reports?state=pending')).text()
      expect(html.match(/data-message=/g)).toHaveLength(25)
      // the counts come from the sampler: ten views, one metrics read
      calls.clear()
      for (let i = 0; i < 10; i++) await get(d, '/d/')
      expect(calls.get('queueMetrics') ?? 0).toBe(0)
    } finally {
      d.close()
    }
  })
})

/** A CSRF-carrying form POST to `d` (the cookie and token of a page view). */
async function post(d: Dashboard, path: string, fields: Record<string, string> = {}) {
  const page = await get(d, '/d/')
  const cookie = page.headers.get('set-cookie')!.split(';')[0]!
  const csrf = /X-CSRF-Token&quot;:&quot;([^&]+)&quot;/.exec(await page.text())![1]!
  return d.fetch(
    new Request(`http://localhost${path}`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, ...fields }),
    }),
  )
}

describe('cancel a pending message', () => {
  it('is offered only when the source can, and the POST reaches DashboardSource.cancelMessage', async () => {
    // storeSource offers it because the store has messages.cancel; a source without it does not
    expect(typeof storeSource(ts.store).cancelMessage).toBe('function')
    const { cancelMessage: _, ...cannot } = storeSource(ts.store)
    const plain = createDashboard({ basePath: '/d', source: cannot })
    try {
      const withoutCancel = await (await get(plain, '/d/queues/reports?state=pending')).text()
      expect(withoutCancel).not.toContain('data-action="cancel"')
    } finally {
      plain.close()
    }
    const cancelled: number[] = []
    const d = createDashboard({
      basePath: '/d',
      source: {
        ...storeSource(ts.store),
        async cancelMessage(id) {
          cancelled.push(id)
          return id === data.reports.pending
        },
      },
    })
    try {
      const html = await (await get(d, '/d/queues/reports?state=pending')).text()
      expect(html).toContain(`action="/d/messages/${data.reports.pending}/cancel"`)
      const ok = await post(d, `/d/messages/${data.reports.pending}/cancel`, {
        back: '/d/queues/reports?state=pending',
      })
      expect(ok.status).toBe(303)
      expect(ok.headers.get('location')).toBe('/d/queues/reports?state=pending&ok=cancelled')
      const refused = await post(d, `/d/messages/${data.reports.dead}/cancel`)
      expect(refused.status).toBe(409)
      expect(cancelled).toEqual([data.reports.pending, data.reports.dead])
    } finally {
      d.close()
    }
  })
})

describe('on Turso (libSQL file)', () => {
  it('every page answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgqrs-dash-turso-'))
    const store = new TursoStore({ url: `file:${join(dir, 'turso.db')}`, logger: false })
    const d = createDashboard({ store, basePath: '/d' })
    try {
      await admin(store).install()
      const seeded = await seedStatic(store)
      for (const path of [
        '/d/',
        '/d/queues/reports?state=dead',
        `/d/messages/${seeded.reports.dead}`,
        '/d/runs',
        `/d/runs/${seeded.run}`,
        '/d/workers',
      ]) {
        expect((await get(d, path)).status, path).toBe(200)
      }
    } finally {
      d.close()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('a slow count of the archive', () => {
  it('does not hold up a page: the counts come with a later refresh', async () => {
    let release: () => void = () => {}
    const source = storeSource(ts.store)
    const d = createDashboard({
      source: {
        ...source,
        async queueMetrics() {
          await new Promise<void>((r) => (release = r))
          return source.queueMetrics()
        },
      },
    })
    try {
      const t0 = Date.now()
      const first = await (await get(d, '/')).text()
      expect(Date.now() - t0).toBeLessThan(2_000)
      expect(first).toContain('Reading the queue counts')
      expect(first).not.toContain('data-queue=')
      release()
      await new Promise((r) => setTimeout(r, 50))
      const later = await (await get(d, '/', { 'HX-Request': 'true', 'HX-Target': 'live' })).text()
      expect(later).toContain('data-queue="reports"')
    } finally {
      d.close()
    }
  })
})

describe('errors', () => {
  it('show a refused action as 409 with the reason, and redact credentials in a 500', async () => {
    const form = (path: string) => post(dashboard, path)
    const refused = await form(`/d/messages/${data.reports.pending}/replay`)
    expect(refused.status).toBe(409)
    expect(await refused.text()).toMatch(/still active/)
    // a dead message cannot be cancelled (the store refuses): 409, and it stays dead
    const notPending = await form(`/d/messages/${data.reports.dead}/cancel`)
    expect(notPending.status).toBe(409)
    expect(await notPending.text()).toMatch(/is not pending/)
    expect((await ts.store.messages.get(data.reports.dead))?.deadAt).toBeInstanceOf(Date)
    // a source that cannot cancel at all: 501
    const { cancelMessage: _, ...cannot } = storeSource(ts.store)
    const plain = createDashboard({ basePath: '/d', source: cannot })
    const noCancel = await post(plain, `/d/messages/${data.reports.pending}/cancel`)
    expect(noCancel.status).toBe(501)
    plain.close()

    const broken = createDashboard({
      source: {
        ...storeSource(ts.store),
        workers: async () => {
          throw new Error('connect ECONNREFUSED postgres://app:hunter2@db.internal:5432/jobs')
        },
      },
    })
    const r = await get(broken, '/workers')
    const text = await r.text()
    expect(r.status).toBe(500)
    expect(text).toContain('postgres://app:***@db.internal')
    expect(text).not.toContain('hunter2')
    broken.close()
  })
})

describe.skipIf(pgSkipReason !== '')(
  `secrets on PostgreSQL${pgSkipReason ? ` — skipped: ${pgSkipReason}` : ''}`,
  () => {
    it('never renders the DSN, its password or the dashboard secret', async () => {
      // trust authentication ignores the password, so the URL still connects
      const url = new URL(PG_URL)
      url.password = 'pw-s3cret-4242'
      const store = new PostgresStore({
        connectionString: url.toString(),
        schema: 'pgqrs_dash_secret',
        logger: false,
      })
      const d = createDashboard({
        store,
        secret: 'dashboard-secret-value-0123456789',
        token: 'tok-secret-99',
      })
      try {
        await store.migrate()
        await store.queue('jobs')
        for (const path of ['/', '/queues/jobs', '/runs', '/workers', '/login']) {
          const r = await get(d, path, { Authorization: 'Bearer tok-secret-99' })
          const text = await r.text()
          expect(r.status, path).toBe(200)
          for (const secret of [
            'pw-s3cret-4242',
            PG_URL,
            url.host,
            'dashboard-secret-value',
            'tok-secret-99',
          ]) {
            expect(text, `${path} shows ${secret}`).not.toContain(secret)
          }
        }
      } finally {
        d.close()
        await store.pool.query('drop schema if exists pgqrs_dash_secret cascade')
        await store.close()
      }
    })
  },
)

describe("a run's children", () => {
  it('are one bounded read, the newest 100 shown, and the page says when there are more', async () => {
    const { run: parent } = await ts.store.runs.start('nightly-report', { day: 'parent' })
    const children: number[] = []
    for (let i = 1; i <= 101; i++) {
      const stepKey = i === 1 ? 'child:nightly-report' : `child:nightly-report#${i}`
      const { run } = await ts.store.runs.start(
        'nightly-report',
        { day: `child ${i}` },
        { parent: { runId: parent.id, stepKey } },
      )
      children.push(run.id)
    }
    const source = storeSource(ts.store)
    const limits: number[] = []
    const d = createDashboard({
      basePath: '/d',
      source: {
        ...source,
        runChildren(id, o) {
          limits.push(o.limit)
          return source.runChildren!(id, o)
        },
      },
    })
    try {
      const html = await (await get(d, `/d/runs/${parent.id}`)).text()
      expect(limits).toEqual([101]) // one read, one row more than shown
      expect(html.match(/data-child=/g)).toHaveLength(100)
      expect(html).toContain(`data-child="${children[100]}"`) // the newest
      expect(html).not.toContain(`data-child="${children[0]}"`) // the oldest is cut
      expect(html).toContain('The newest 100 child runs.')
      expect(html).not.toContain('data-field="parent"')
      // a child links back to its parent, naming the step that started it
      const child = await (await get(d, `/d/runs/${children[1]}`)).text()
      expect(child).toMatch(
        new RegExp(
          `data-field="parent">child of <a href="/d/runs/${parent.id}">run #${parent.id}</a> from step <span class="mono">child:nightly-report#2</span>`,
        ),
      )
      expect(child).toContain('No child runs.')
    } finally {
      d.close()
    }
    // a source without runChildren: no children section, the parent link stays (it is the run's)
    const { runChildren: _, ...without } = source
    const plain = createDashboard({ basePath: '/d', source: without })
    try {
      const html = await (await get(plain, `/d/runs/${parent.id}`)).text()
      expect(html).not.toContain('<h2>Children</h2>')
      expect(html).not.toContain('data-child=')
      const child = await (await get(plain, `/d/runs/${children[0]}`)).text()
      expect(child).toContain(`href="/d/runs/${parent.id}"`)
    } finally {
      plain.close()
    }
  })
})
