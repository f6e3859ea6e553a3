// The web dashboard inside your own Node http server, under /admin/pgqrs, read-only.
// expect: overview: 200 text/html; charset=UTF-8
// expect: the overview lists queue emails: true
// expect: a replay in read-only mode: 403
// expect: the app's own routes: my app
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { createDashboard } from '@pgqrs/dashboard'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/dashboard-${process.pid}.db`,
)
await pgqrs.admin(store).install()
await store.queue('emails')

// Every link and form of the pages starts with basePath; read-only hides and refuses all actions.
const dashboard = createDashboard({ store, basePath: '/admin/pgqrs', readOnly: true })
const server = createServer((req, res) => {
  if (req.url?.startsWith('/admin/pgqrs')) return dashboard.node(req, res)
  res.end('my app')
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

const page = await fetch(`${origin}/admin/pgqrs/`)
console.log(`overview: ${page.status} ${page.headers.get('content-type')}`)
console.log(`the overview lists queue emails: ${(await page.text()).includes('>emails</a>')}`)
const replay = await fetch(`${origin}/admin/pgqrs/messages/1/replay`, { method: 'POST' })
console.log(`a replay in read-only mode: ${replay.status}`)
console.log(`the app's own routes: ${await (await fetch(`${origin}/health`)).text()}`)

server.close()
dashboard.close() // stops the dashboard's sampler; the store is yours to close
await store.close()
