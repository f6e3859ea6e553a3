// Turso / libSQL: a local file by DSN or URL; a remote database with an auth token.
// run: once
// expect: turso local file: backend turso, 1 pending
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TursoStore } from '@pgqrs/store-turso'
import * as pgqrs from 'pgqrs'

const path = join(mkdtempSync(join(tmpdir(), 'pgqrs-')), 'app.db')

// A local file: turso:///absolute/path.db, or new TursoStore({ url: 'file:/absolute/path.db' })
const store = await pgqrs.connect(`turso://${path}`)
await pgqrs.admin(store).install()
await store.queue('events')
await (await store.producer('events')).enqueue({ type: 'signup' })
const pending = (await pgqrs.admin(store).queueMetrics('events')).pending
console.log(`turso local file: backend ${store.backend}, ${pending} pending`)
await store.close()

// A remote database: libsql://<db>-<org>.turso.io?authToken=… as a DSN, or explicitly:
if (process.env.TURSO_DATABASE_URL) {
  const remote = new TursoStore({
    url: process.env.TURSO_DATABASE_URL, // libsql://db-org.turso.io
    authToken: process.env.TURSO_AUTH_TOKEN,
  })
  await pgqrs.admin(remote).install()
  await remote.close()
}
