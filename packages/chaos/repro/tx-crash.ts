// Reproduction (chaos findings 1 and 6): a store transaction whose connection is terminated between
// two statements. Finding 1 (fixed in 8e193d0): the process crashed with an unhandled 'error' event.
// Finding 6 (open): the transaction rejects with the driver's raw, untyped Error instead of a
// ConnectionError / StoreError. Run: cd packages/chaos && pnpm exec node repro/tx-crash.ts
import { connect, PgqrsError } from '@pgqrs/core'
import pg from 'pg'

const url = process.env.PGQRS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const schema = `chaos_repro_${process.pid}`
// a unique application_name, so that only this process's own connection is terminated below
const app = `chaos_repro_${process.pid}`
const store = await connect(`${url}${url.includes('?') ? '&' : '?'}application_name=${app}`, {
  schema,
  logger: false,
})
await store.migrate()
const admin = new pg.Client({ connectionString: url })
await admin.connect()
process.on('uncaughtException', async (e) => {
  // Reached only because pgqrs left a pool client without an 'error' listener.
  console.log(`CRASH: uncaught ${e.name}: ${e.message} (code ${(e as { code?: string }).code})`)
  await admin.query(`drop schema if exists "${schema}" cascade`)
  process.exit(1)
})
const outcome = await store
  .transaction(async (tx) => {
    await tx.queues.ensure('q')
    // the backend of this transaction, terminated from outside while we wait between statements
    const { rows } = await admin.query(
      `select pid from pg_stat_activity where application_name = $1 and state = 'idle in transaction'`,
      [app],
    )
    for (const r of rows) await admin.query('select pg_terminate_backend($1)', [r.pid])
    await new Promise((r) => setTimeout(r, 500))
    await tx.queues.ensure('q2')
  })
  .then(
    () => 'committed',
    (e: Error & { code?: string }) =>
      `rejected with ${PgqrsError.is(e) ? 'a typed' : 'an UNTYPED'} ${e.name} (code ${e.code}): ${e.message}`,
  )
console.log('transaction', outcome, '(the process survived)')
await admin.query(`drop schema if exists "${schema}" cascade`)
await admin.end()
await store.close()
