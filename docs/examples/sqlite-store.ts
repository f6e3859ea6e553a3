// SQLite: by DSN, by path, and on a better-sqlite3 database you own.
// run: once
// expect: sqlite by DSN: backend sqlite, single-process
// expect: by path: 1 pending
// expect: your database: journal_mode wal, still open after close(): true
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '@pgqrs/store-sqlite'
import Database from 'better-sqlite3'
import * as pgqrs from 'pgqrs'

const path = join(mkdtempSync(join(tmpdir(), 'pgqrs-')), 'app.db')

// 1. By DSN: sqlite:///absolute/path.db (or sqlite:relative/path.db)
const byDsn = await pgqrs.connect(`sqlite://${path}`)
console.log(`sqlite by DSN: backend ${byDsn.backend}, ${byDsn.capabilities.concurrency}`)
await byDsn.close()

// 2. By path, with config
const store = new SqliteStore({ path, leaseMs: 60_000, pollIntervalMs: 200 })
await pgqrs.admin(store).install()
await store.queue('thumbnails')
await pgqrs.enqueue().message({ image: 'cat.png' }).to('thumbnails').execute(store)
console.log(`by path: ${(await pgqrs.admin(store).queueMetrics('thumbnails')).pending} pending`)
await store.close()

// 3. On your own better-sqlite3 database: the store sets WAL, busy_timeout and foreign_keys on
// it, and never closes it
const database = new Database(path)
const shared = new SqliteStore({ database })
await shared.queue('thumbnails')
await shared.close()
const mode = database.pragma('journal_mode', { simple: true })
console.log(`your database: journal_mode ${mode}, still open after close(): ${database.open}`)
database.close()
