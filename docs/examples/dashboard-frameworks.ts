// The dashboard mounted under /admin/pgqrs inside a Fastify app and a Hono app.
// run: once
// expect: fastify: 200 under the prefix, 200 for the app's own route
// expect: hono: 200 under the prefix, 404 outside it
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { createDashboard } from '@pgqrs/dashboard'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { Hono } from 'hono'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(`sqlite://${tmpdir()}/dashboard-fw-${process.pid}.db`)
await pgqrs.admin(store).install()
const dashboard = createDashboard({ store, basePath: '/admin/pgqrs' })

// Fastify: in a plugin scope that leaves request bodies unparsed, hand the raw objects over.
const fastify = Fastify()
fastify.get('/health', async () => 'ok')
fastify.register(async (scope) => {
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', (_req, _payload, done) => done(null))
  const handler = (req: FastifyRequest, reply: FastifyReply) => {
    reply.hijack()
    dashboard.node(req.raw, reply.raw)
  }
  scope.all('/admin/pgqrs', handler)
  scope.all('/admin/pgqrs/*', handler)
})
await fastify.listen({ port: 0, host: '127.0.0.1' })
const origin = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`
const page = await fetch(`${origin}/admin/pgqrs/`)
const health = await fetch(`${origin}/health`)
console.log(`fastify: ${page.status} under the prefix, ${health.status} for the app's own route`)
await fastify.close()

// Hono (and any fetch-based runtime): pass the request through unchanged.
const app = new Hono()
app.all('/admin/pgqrs', (c) => dashboard.fetch(c.req.raw))
app.all('/admin/pgqrs/*', (c) => dashboard.fetch(c.req.raw))
const inside = await app.request('http://localhost/admin/pgqrs/')
const outside = await app.request('http://localhost/elsewhere')
console.log(`hono: ${inside.status} under the prefix, ${outside.status} outside it`)

dashboard.close()
await store.close()
