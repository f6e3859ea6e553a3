// Issue 13 on Postgres: secrets never leave in errors, logs or inspect output; functions cannot be
// captured through search_path; every valid schema name works (NOTIFY channel, `$` in bodies); a
// pool of one connection still listens.
import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { ConfigError, ConnectionError, connect, type Logger } from '@pgqrs/core'
import { worker } from '@pgqrs/queue'
import { defineWorkflow, workflowWorker } from '@pgqrs/workflow'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { PostgresStore } from '../src/index.js'
import { pgUrl } from './harness.js'

const PASSWORD = `pw-${randomBytes(6).toString('hex')}`

/** A logger that keeps every line it is given. */
function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  const keep = (level: string) => (message: string, meta?: Record<string, unknown>) =>
    void lines.push(`${level} ${message} ${inspect(meta, { depth: 10 })}`)
  return {
    lines,
    logger: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') },
  }
}

/** Everything an error can show: message, stack, cause chain and own properties, deeply. */
const everything = (e: unknown) =>
  `${inspect(e, { depth: 20, showHidden: true })} ${String(e)} ${JSON.stringify(e) ?? ''}`

const stores: PostgresStore[] = []
const admin = new pg.Pool({ connectionString: pgUrl, max: 2 })
afterAll(async () => {
  for (const s of stores) {
    await admin.query(`drop schema if exists "${s.config.schema.replaceAll('"', '""')}" cascade`)
    await s.close()
  }
  await admin.end()
})

describe.runIf(pgUrl)('postgres: hardening', () => {
  it('a failing connect never shows the password: not in the error, its causes, inspect or the logs', async () => {
    const { logger, lines } = recordingLogger()
    const refused = await connect(`postgres://app:${PASSWORD}@127.0.0.1:1/app`, {
      connectTimeoutMs: 2_000,
      logger,
    }).then(
      () => null,
      (e: unknown) => e,
    )
    expect(ConnectionError.is(refused)).toBe(true)
    const malformed = await connect(`postgres://app:${PASSWORD}@[::1/app`).then(
      () => null,
      (e: unknown) => e,
    )
    expect(ConfigError.is(malformed)).toBe(true)
    for (const e of [refused, malformed]) expect(everything(e)).not.toContain(PASSWORD)
    expect(lines.join('\n')).not.toContain(PASSWORD)
  })

  it('console.log(store) and JSON.stringify(store) show a summary, never the connection string', async () => {
    const url = new URL(pgUrl)
    url.password = PASSWORD
    const store = new PostgresStore({ connectionString: url.toString(), logger: false })
    try {
      const shown = `${inspect(store, { depth: 20, showHidden: true })} ${JSON.stringify(store)}`
      expect(shown).toContain('PostgresStore')
      expect(shown).not.toContain(PASSWORD)
    } finally {
      await store.close()
    }
  })

  it("a function another role put in public (cardinality, unnest) is never called by pgqrs' SQL", async () => {
    const schema = `pgqrs_sp_${randomBytes(4).toString('hex')}`
    const store = new PostgresStore({ connectionString: pgUrl, schema, logger: false })
    stores.push(store)
    await store.migrate()
    const trap = (name: string, args: string) =>
      admin.query(`create or replace function public.${name}(${args}) returns bigint language plpgsql
        as $$ begin raise exception 'captured: public.${name} ran'; end $$`)
    await trap('cardinality', 'bigint[]')
    await trap('unnest', 'bigint[]')
    await trap('array_agg', 'bigint')
    try {
      await store.queue('sp')
      const sent = await store.messages.enqueue('sp', [
        { payload: 1 },
        { payload: 2 },
        { payload: 3 },
      ])
      const [a, b] = await store.messages.dequeue('sp', { batchSize: 2, leaseMs: 30_000 })
      expect(await store.messages.archive([a!])).toEqual([true])
      expect(await store.messages.delete([b!])).toEqual([true])
      const got = await store.messages.settleAndDequeue!([], 'sp', {
        batchSize: 5,
        leaseMs: 30_000,
      })
      expect(got.messages.map((m) => m.id)).toEqual([sent[2]!.id])
      expect(await store.messages.fail(got.messages[0]!, 'x', 0)).toBe('retried')
      const wf = defineWorkflow({ name: 'sp-flow', run: async (ctx) => ctx.step('s', () => 42) })
      const runner = await workflowWorker(store, [wf], { pollIntervalMs: 50 }).start()
      expect(await (await wf.start(store, {})).result({ timeoutMs: 10_000 })).toBe(42)
      await runner.stop()
    } finally {
      await admin.query(`drop function if exists public.cardinality(bigint[]);
        drop function if exists public.unnest(bigint[]); drop function if exists public.array_agg(bigint)`)
    }
  })

  it('every valid schema name works: 63 characters with $ (a NOTIFY channel over 63 bytes is hashed)', async () => {
    const schema = `s$${randomBytes(4).toString('hex')}$${'x'.repeat(52)}`
    expect(schema).toHaveLength(63)
    const store = new PostgresStore({ connectionString: pgUrl, schema, logger: false })
    stores.push(store)
    await store.migrate()
    expect(store.notifyChannel!.length).toBeLessThanOrEqual(63)
    expect((await store.schemaStatus()).state).toBe('current')
    await store.queue('dollar')
    // a worker woken by NOTIFY on the hashed channel, not by its (60 s) poll timer
    let handled = 0
    let woken!: () => void
    const done = new Promise<void>((resolve) => {
      woken = resolve
    })
    const w = worker(
      store,
      'dollar',
      () => {
        handled++
        woken()
      },
      { pollIntervalMs: 60_000 },
    )
    await w.start()
    const other = new PostgresStore({ connectionString: pgUrl, schema, logger: false })
    try {
      await other.messages.enqueue('dollar', [{ payload: 'wake' }])
      await done
    } finally {
      await other.close()
      await w.stop()
    }
    expect(handled).toBe(1)
  })

  it('a pool of one connection still listens: the self-test runs on the listening connection', async () => {
    const schema = `pgqrs_one_${randomBytes(4).toString('hex')}`
    const store = new PostgresStore({
      connectionString: pgUrl,
      schema,
      maxConnections: 1,
      logger: false,
    })
    stores.push(store)
    await store.migrate()
    await store.queue('one')
    const sub = await store.listen(['one'], () => {})
    expect(store.notificationsWorking).toBe(true)
    await sub?.close()
  })

  it('pgqrs grants nothing and defines no SECURITY DEFINER function', async () => {
    const schema = `pgqrs_acl_${randomBytes(4).toString('hex')}`
    const store = new PostgresStore({ connectionString: pgUrl, schema, logger: false })
    stores.push(store)
    await store.migrate()
    const { rows } = await admin.query<{ functions: string; definers: string; granted: string }>(
      `select
         (select count(*) from pg_proc p where p.pronamespace = n.oid) as functions,
         (select count(*) from pg_proc p where p.pronamespace = n.oid and p.prosecdef) as definers,
         (select count(*) from pg_class c where c.relnamespace = n.oid and c.relacl is not null)
           + (case when n.nspacl is null then 0 else 1 end) as granted
       from pg_namespace n where n.nspname = $1`,
      [schema],
    )
    expect(Number(rows[0]!.functions)).toBeGreaterThan(0)
    expect(Number(rows[0]!.definers)).toBe(0)
    expect(Number(rows[0]!.granted)).toBe(0)
  })

  it('a notification carries the queue name only, never the payload (any role may LISTEN)', async () => {
    const schema = `pgqrs_notify_${randomBytes(4).toString('hex')}`
    const store = new PostgresStore({ connectionString: pgUrl, schema, logger: false })
    stores.push(store)
    await store.migrate()
    await store.queue('mail')
    const eavesdropper = new pg.Client({ connectionString: pgUrl })
    await eavesdropper.connect()
    try {
      const heard: { channel: string; payload?: string }[] = []
      eavesdropper.on('notification', (n) => heard.push(n))
      await eavesdropper.query(`listen "${store.notifyChannel!.replaceAll('"', '""')}"`)
      const secret = `secret-${randomBytes(6).toString('hex')}`
      await store.messages.enqueue('mail', [{ payload: { secret } }])
      const deadline = Date.now() + 5_000
      while (heard.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20))
      expect(heard.map((n) => n.payload)).toEqual(['mail'])
      expect(JSON.stringify(heard)).not.toContain(secret)
    } finally {
      await eavesdropper.end()
    }
  })
})
