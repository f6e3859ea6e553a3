import type { IncomingMessage, ServerResponse } from 'node:http'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { serve as honoServe } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDashboard, type Dashboard } from '../dist/index.js'
import { serve, sqliteStore, type TestStore } from './harness.js'

let ts: TestStore
let dashboard: Dashboard
const PREFIX = '/admin/jobs'

beforeAll(async () => {
  ts = await sqliteStore()
  await ts.store.queue('mounted')
  dashboard = createDashboard({ store: ts.store, basePath: PREFIX })
})
afterAll(async () => {
  dashboard?.close()
  await ts?.destroy()
})

/** Loads the overview under the prefix, follows a link to a queue page, and posts an action. */
async function exercise(origin: string, appRoute: string): Promise<void> {
  const home = await fetch(`${origin}${PREFIX}/`)
  expect(home.status).toBe(200)
  const html = await home.text()
  expect(html).toContain(`href="${PREFIX}/queues/mounted"`)
  const queue = await fetch(`${origin}${PREFIX}/queues/mounted`)
  expect(queue.status).toBe(200)
  // a POST through the framework reaches the dashboard with its body (here: refused, no CSRF)
  const post = await fetch(`${origin}${PREFIX}/queues/mounted/purge`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'confirm=yes&olderThanMs=0',
  })
  expect(post.status).toBe(403)
  expect(await post.text()).toMatch(/CSRF/)
  // with the cookie and token of the page, the POST goes through
  const cookie = home.headers.get('set-cookie')!.split(';')[0]!
  const csrf = /X-CSRF-Token&quot;:&quot;([^&]+)&quot;/.exec(html)![1]!
  const ok = await fetch(`${origin}${PREFIX}/queues/mounted/purge`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, confirm: 'yes', olderThanMs: '0' }),
    redirect: 'manual',
  })
  expect(ok.status).toBe(303)
  expect(ok.headers.get('location')).toBe(`${PREFIX}/queues/mounted?state=archived&ok=purged&n=0`)
  // the application's own routes still answer
  expect(await (await fetch(`${origin}${appRoute}`)).text()).toBe('app')
}

describe('mounted under a prefix', () => {
  it('Node http', async () => {
    const served = await serve((req, res) => {
      if (req.url?.startsWith(PREFIX)) return dashboard.node(req, res)
      res.end('app')
    })
    try {
      await exercise(served.origin, '/health')
    } finally {
      await served.close()
    }
  })

  it('Express-style: a mount that strips the prefix from req.url and keeps req.originalUrl', async () => {
    const served = await serve(
      (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse) => {
        if (!req.url?.startsWith(PREFIX)) return void res.end('app')
        req.originalUrl = req.url
        req.url = req.url.slice(PREFIX.length) || '/'
        dashboard.node(req, res)
      },
    )
    try {
      await exercise(served.origin, '/health')
    } finally {
      await served.close()
    }
  })

  it('Fastify', async () => {
    const app = Fastify()
    app.get('/health', async () => 'app')
    await app.register(async (scope) => {
      // the dashboard reads its own (small, form-encoded) bodies: leave the stream alone
      scope.removeAllContentTypeParsers()
      scope.addContentTypeParser('*', (_req, _payload, done) => done(null))
      const handler = (
        req: { raw: IncomingMessage },
        reply: { hijack(): void; raw: ServerResponse },
      ) => {
        reply.hijack()
        dashboard.node(req.raw, reply.raw)
      }
      scope.all(PREFIX, handler)
      scope.all(`${PREFIX}/*`, handler)
    })
    const origin = await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      await exercise(origin, '/health')
    } finally {
      await app.close()
    }
  })

  it('Hono', async () => {
    const app = new Hono()
    app.get('/health', (c) => c.text('app'))
    app.all(`${PREFIX}/*`, (c) => dashboard.fetch(c.req.raw))
    app.all(PREFIX, (c) => dashboard.fetch(c.req.raw))
    const server = await new Promise<ReturnType<typeof honoServe>>((resolve) => {
      const s = honoServe(
        { fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false },
        () => resolve(s),
      )
    })
    try {
      const { port } = server.address() as AddressInfo
      await exercise(`http://127.0.0.1:${port}`, '/health')
    } finally {
      await new Promise((r) => server.close(r))
    }
  })
})
