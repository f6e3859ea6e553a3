// Enqueue from SQL (PostgreSQL): a trigger enqueues in the transaction of the row it fires on.
// run: postgres
// expect: before commit: 0 message(s) visible
// expect: worker woken by the commit: welcome mail to ada@example.com
// expect: rolled back: nothing enqueued for bob@example.com
// expect: /^from psql or pg_cron: message \d+, priority 1, visible in about 5 min$/
import * as pgqrs from 'pgqrs'
import pg from 'pg'

const url = process.env.PGQRS_DSN ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const schema = `sqlenq_${process.pid}`
const store = await pgqrs.connect(url, { schema })
await pgqrs.admin(store).install()
await store.queue('emails')

// The function lives in the pgqrs schema: `<schema>.enqueue(queue, payload, delay =>, priority =>,
// dedupe_key =>, max_attempts =>, run_at =>, timeout_ms =>)`, with the library's validation and
// NOTIFY, and returns the message id.
const pool = new pg.Pool({ connectionString: url })
await pool.query(`create table ${schema}.signups (id serial primary key, email text not null)`)
await pool.query(`
  create function ${schema}.welcome_mail() returns trigger language plpgsql as $$
  begin
    perform ${schema}.enqueue('emails', jsonb_build_object('to', new.email));
    return new;
  end $$`)
await pool.query(`create trigger welcome_mail after insert on ${schema}.signups
  for each row execute function ${schema}.welcome_mail()`)

const woken = new Promise<string>((resolve) => {
  const w = pgqrs.worker<{ to: string }>(
    store,
    'emails',
    async (m) => {
      resolve(m.payload.to)
      void w.stop()
    },
    { pollIntervalMs: 60_000 }, // polls once a minute: the commit's NOTIFY wakes it
  )
  void w.start()
})

const client = await pool.connect()
await client.query('begin')
await client.query(`insert into ${schema}.signups (email) values ('ada@example.com')`)
const before = await store.messages.list('emails')
console.log(`before commit: ${before.length} message(s) visible`)
await client.query('commit')
console.log(`worker woken by the commit: welcome mail to ${await woken}`)

await client.query('begin')
await client.query(`insert into ${schema}.signups (email) values ('bob@example.com')`)
await client.query('rollback')
client.release()
const bob = (await store.messages.list('emails')).filter((m) =>
  JSON.stringify(m.payload).includes('bob'),
)
console.log(
  `rolled back: ${bob.length === 0 ? 'nothing' : 'something'} enqueued for bob@example.com`,
)

// From psql, a migration or pg_cron: named arguments, in any order.
const { rows } = await pool.query(
  `select ${schema}.enqueue('emails', '{"digest":true}'::jsonb, delay => interval '5 min',
     priority => 1, dedupe_key => 'daily-digest') as id`,
)
const digest = await pgqrs.admin(store).message(Number(rows[0].id))
const inMin = Math.round((digest.visibleAt.getTime() - Date.now()) / 60_000)
console.log(
  `from psql or pg_cron: message ${digest.id}, priority ${digest.priority}, visible in about ${inMin} min`,
)

await pool.query(`drop schema ${schema} cascade`)
await pool.end()
await store.close()
