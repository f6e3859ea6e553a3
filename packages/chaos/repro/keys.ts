// Reproduction (chaos finding 3): idempotency keys, worker names and step names are not validated
// like dedupe keys and payload strings are:
//  - a lone surrogate is silently replaced by U+FFFD when stored, so two DIFFERENT keys collide
//    (the second start() returns the first run; the second step returns the first step's output);
//  - NUL is refused by Postgres with a StoreError (22021) instead of a ValidationError, and accepted
//    by SQLite (the backends disagree).
// Run: cd packages/chaos && pnpm exec node repro/keys.ts
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Store } from '@pgqrs/core'
import { worker } from '@pgqrs/queue'
import { PostgresStore } from '@pgqrs/store-postgres'
import { SqliteStore } from '@pgqrs/store-sqlite'
import { defineWorkflow, run as runOf } from '@pgqrs/workflow'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keys-'))
const url = process.env.PGQRS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const schema = `chaos_repro_keys_${process.pid}`
const stores: Store[] = [
  new SqliteStore({ path: path.join(dir, 'app.db'), logger: false }),
  new PostgresStore({ connectionString: url, schema, logger: false }),
]
const attempt = async (what: string, fn: () => Promise<string>) => {
  try {
    console.log(`  ${what}: ${await fn()}`)
  } catch (e) {
    console.log(
      `  ${what}: threw ${(e as Error).name} (${(e as { code?: string }).code}): ${(e as Error).message.slice(0, 90)}`,
    )
  }
}
for (const store of stores) {
  console.log(store.backend)
  await store.migrate()
  const wf = defineWorkflow({ name: 'keys', run: async () => 1 })
  await attempt('idempotency keys "k\\uD800" then "k\\uDC00"', async () => {
    const a = await wf.start(store, { who: 'first' }, { idempotencyKey: 'k\uD800' })
    const b = await wf.start(store, { who: 'second' }, { idempotencyKey: 'k\uDC00' })
    return `runs ${a.id} and ${b.id}; the second run's input is ${JSON.stringify((await b.status()).input)}; stored key ${JSON.stringify((await a.status()).idempotencyKey)}`
  })
  await attempt(
    'idempotency key "nul\\u0000"',
    async () => `run ${(await wf.start(store, {}, { idempotencyKey: 'nul\u0000' })).id}`,
  )
  await attempt('step names "s\\uD800" then "s\\uDC00" in one run', async () => {
    await wf.start(store, {})
    const [msg] = await store.messages.dequeue('keys', { batchSize: 1, leaseMs: 10_000 })
    const r = await runOf().message(msg!).store(store).execute()
    const one = await r.step('s\uD800', async () => 'output of the first step')
    const two = await r.step('s\uDC00', async () => 'output of the second step')
    return `first -> ${JSON.stringify(one)}, second -> ${JSON.stringify(two)}`
  })
  await attempt('worker names "w\\uD800" then "w\\uDC00"', async () => {
    const a = worker(store, 'keys', async () => {}, { name: 'w\uD800' })
    await a.start()
    const b = worker(store, 'keys', async () => {}, { name: 'w\uDC00' })
    try {
      await b.start()
      return 'both started'
    } finally {
      await a.stop({ graceMs: 0 })
      await b.stop({ graceMs: 0 })
    }
  })
  await attempt('worker name "nul\\u0000"', async () => {
    const w = worker(store, 'keys', async () => {}, { name: 'nul\u0000' })
    await w.start()
    await w.stop({ graceMs: 0 })
    return `registered as ${JSON.stringify(w.record?.name)}`
  })
}
await (stores[1] as PostgresStore).pool.query(`drop schema if exists "${schema}" cascade`)
for (const s of stores) await s.close()
fs.rmSync(dir, { recursive: true, force: true })
process.exit(0)
