// Exactly once where it matters: a message enqueued in your transaction commits or rolls back with
// your data, and a transactional step's writes commit together with the step's completion.
// expect: after commit: 1 order(s), 1 message(s)
// expect: after rollback: 1 order(s), 1 message(s)
// expect: charge_order SUCCESS, ledger rows for order 7: 1
import { tmpdir } from 'node:os'
import { type Kysely, sql } from 'kysely'
import * as pgqrs from 'pgqrs'

const store = await pgqrs.connect(
  process.env.PGQRS_DSN ?? `sqlite://${tmpdir()}/tx-${process.pid}.db`,
)
await pgqrs.admin(store).install()
await store.queue('order_placed')
const producer = await store.producer<{ orderId: number }>('order_placed')

// Your own tables live in the same database; tx.db is the Kysely transaction pgqrs runs in.
const db = (tx: pgqrs.StoreTransaction) => tx.db as Kysely<unknown>
await store.transaction(async (tx) => {
  await sql`create table if not exists orders (id integer primary key, item text)`.execute(db(tx))
  await sql`create table if not exists ledger (order_id integer, cents integer)`.execute(db(tx))
})
const count = (table: string) =>
  store.transaction(async (tx) => {
    const query = sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`
    return Number((await query.execute(db(tx))).rows[0]?.n)
  })
const messages = async () => (await store.messages.list('order_placed', { state: 'active' })).length

// 1. The order row and its message commit together ...
await store.transaction(async (tx) => {
  await sql`insert into orders (id, item) values (${1}, ${'book'})`.execute(db(tx))
  await producer.enqueue({ orderId: 1 }, { tx })
})
console.log(`after commit: ${await count('orders')} order(s), ${await messages()} message(s)`)

// ... or roll back together: no message about an order that does not exist.
await store
  .transaction(async (tx) => {
    await sql`insert into orders (id, item) values (${2}, ${'lamp'})`.execute(db(tx))
    await producer.enqueue({ orderId: 2 }, { tx })
    throw new Error('payment provider down')
  })
  .catch(() => {})
console.log(`after rollback: ${await count('orders')} order(s), ${await messages()} message(s)`)

// 2. A transactional step: the ledger row and the step's stored result commit in one transaction,
// so a crash can never leave the row written but the step not done (which would write it twice).
const chargeOrder = pgqrs.defineWorkflow({
  name: 'charge_order',
  async run(ctx, input: { orderId: number; cents: number }) {
    const entry = await ctx.step(
      'record_payment',
      async (tx: Kysely<unknown>) => {
        const { orderId, cents } = input
        await sql`insert into ledger (order_id, cents) values (${orderId}, ${cents})`.execute(tx)
        return `ledger:${orderId}`
      },
      { transactional: true },
    )
    return { entry }
  },
})
const runner = await pgqrs.workflowWorker(store, [chargeOrder]).start()
const handle = await chargeOrder.start(store, { orderId: 7, cents: 1_999 })
await handle.result({ timeoutMs: 10_000 })
const rows = await count('ledger')
console.log(`charge_order ${(await handle.status()).status}, ledger rows for order 7: ${rows}`)
await runner.stop()
await store.close()
