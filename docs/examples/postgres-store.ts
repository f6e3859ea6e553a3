// PostgreSQL: by DSN with config overrides, on your own pool, and behind PgBouncer.
// run: postgres
// expect: /^installed schema jobs: ok true, \d+ migrations? applied$/
// expect: on your pool: 2 message(s) enqueued; pool still open: true
// expect: behind a pooler: a worker handled invoice 1
import * as pgqrs from 'pgqrs'
import { PostgresStore } from '@pgqrs/store-postgres'
import pg from 'pg'

const url = process.env.PGQRS_DSN ?? 'postgres://postgres@127.0.0.1:5432/postgres'

// 1. By DSN: connect() loads @pgqrs/store-postgres; the tables go to the schema `jobs`
const store = await pgqrs.connect(url, { schema: 'jobs', maxConnections: 20, leaseMs: 60_000 })
await pgqrs.admin(store).install() // creates the schema if missing; idempotent, serialised
const { ok, migrations } = await pgqrs.admin(store).verify()
const applied = `${migrations.length} migration${migrations.length === 1 ? '' : 's'} applied`
console.log(`installed schema ${store.config.schema}: ok ${ok}, ${applied}`)
await store.close()

// 2. On your application's pool: pgqrs borrows connections and never closes the pool
const pool = new pg.Pool({ connectionString: url, max: 20 })
const shared = new PostgresStore({ pool, schema: 'jobs' })
await shared.queue('invoices')
await (await shared.producer('invoices')).enqueueMany([{ invoice: 1 }, { invoice: 2 }])
await shared.close()
const { rows } = await pool.query('select count(*)::int as n from jobs.pgqrs_messages')
console.log(`on your pool: ${rows[0].n} message(s) enqueued; pool still open: ${!pool.ended}`)
await pool.end()

// 3. Behind PgBouncer in transaction mode: queries go through the pooler, LISTEN needs a session
// connection. Without listenUrl the store detects that notifications do not arrive, warns once,
// and workers poll every pollIntervalMs.
const pgbouncerUrl = process.env.PGBOUNCER_URL ?? url // e.g. postgres://app@pgbouncer:6432/app
const directUrl = url // the database itself, e.g. postgres://app@db:5432/app
const pooled = new PostgresStore({
  connectionString: pgbouncerUrl,
  listenUrl: directUrl,
  schema: 'jobs',
  pollIntervalMs: 500, // the fallback when wake-ups are lost
})
const handled = Promise.withResolvers<{ invoice: number }>()
const worker = pgqrs.worker<{ invoice: number }>(pooled, 'invoices', async (msg) => {
  handled.resolve(msg.payload)
})
await worker.start()
console.log(`behind a pooler: a worker handled invoice ${(await handled.promise).invoice}`)
await worker.stop()
await pooled.close()
