/**
 * Hostile input (property-based, fast-check) on Postgres and SQLite: payloads, queue / workflow /
 * worker / step names, dedupe and idempotency keys, the schema option, DSNs and options. Every input
 * either round-trips exactly or fails with a typed ValidationError / ConfigError (ConnectionError
 * where a DSN points at nothing), and never changes stored state it should not: after every case the
 * set of tables is unchanged, the canary row is intact and only the expected row counts moved.
 * SQL-injection strings are tried in every string parameter. Two schemas on one Postgres database
 * never see each other's messages.
 */
import fs from 'node:fs'
import path from 'node:path'
import { connect, parseDsn, PgqrsError, type Store, WORKER_STATUSES } from '@pgqrs/core'
import { Worker, worker } from '@pgqrs/queue'
import { PostgresStore } from '@pgqrs/store-postgres'
import { SqliteStore } from '@pgqrs/store-sqlite'
import { defineWorkflow, run as runBuilder } from '@pgqrs/workflow'
import Database from 'better-sqlite3'
import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  INJECTIONS,
  jsonNormalised,
  nameLike,
  nastyString,
  payloadArb,
  show,
  typedCode,
} from '../src/hostile.ts'
import { writeSection } from '../src/results.ts'
import { chaosSettings } from '../src/settings.ts'

/** True when no object in `v` has a key the default payload validation forbids. */
function noForbiddenKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.every(noForbiddenKey)
  if (v === null || typeof v !== 'object') return true
  return Object.entries(v).every(
    ([k, x]) => k !== '__proto__' && k !== 'constructor' && k !== 'prototype' && noForbiddenKey(x),
  )
}

const settings = chaosSettings()
const pgUrl = inject('pgUrl')
const tmpRoot = inject('tmpRoot')
const started = Date.now()
const SEED = settings.seed
const NUM_RUNS = settings.numRuns

const TABLES = ['queues', 'messages', 'archive', 'workers', 'workflows', 'runs', 'steps'] as const
type Table = (typeof TABLES)[number]
type Counts = Record<Table, number> & { canary: number }

interface Bench {
  readonly backend: 'postgres' | 'sqlite'
  readonly store: Store
  /** Every table (and index, on SQLite) of the database: must never change. */
  tables(): Promise<string[]>
  counts(): Promise<Counts>
  close(): Promise<void>
}

/** Per property: cases tried and how they ended. */
const stats: Record<string, Record<string, number>> = {}
const violations: string[] = []
const tally = (property: string, outcome: string) => {
  stats[property] ??= {}
  const s = stats[property]
  s[outcome] = (s[outcome] ?? 0) + 1
  s.tried = (s.tried ?? 0) + 1
}

async function postgresBench(): Promise<Bench> {
  const schema = `chaos_hostile_${process.pid}`
  const admin = new pg.Pool({ connectionString: pgUrl, max: 2 })
  const store = new PostgresStore({
    connectionString: pgUrl,
    schema,
    logger: false,
    maxConnections: 4,
  })
  await store.migrate()
  await admin.query(`create table "${schema}".chaos_canary (n int)`)
  await admin.query(`insert into "${schema}".chaos_canary values (1)`)
  return {
    backend: 'postgres',
    store,
    async tables() {
      const r = await admin.query(
        `select n.nspname || '.' || c.relname as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and c.relkind in ('r', 'v', 'm', 'S', 'p')
         order by 1`,
      )
      return r.rows.map((x) => x.t as string)
    },
    async counts() {
      const s = `"${schema}"`
      const r = await admin.query(
        `select ${TABLES.map((t) => `(select count(*) from ${s}.pgqrs_${t})::int as ${t}`).join(', ')},
          (select count(*) from ${s}.chaos_canary where n = 1)::int as canary`,
      )
      return r.rows[0] as Counts
    },
    async close() {
      await store.close()
      await admin.end()
    },
  }
}

async function sqliteBench(): Promise<Bench> {
  const dir = path.join(tmpRoot, 'hostile')
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, 'hostile.db')
  const store = new SqliteStore({ path: file, logger: false })
  await store.migrate()
  const raw = new Database(file)
  raw.pragma('busy_timeout = 5000')
  raw.exec('create table chaos_canary (n int); insert into chaos_canary values (1)')
  return {
    backend: 'sqlite',
    store,
    async tables() {
      return (
        raw.prepare(`select type || ':' || name as t from sqlite_master order by 1`).all() as {
          t: string
        }[]
      ).map((x) => x.t)
    },
    async counts() {
      return raw
        .prepare(
          `select ${TABLES.map((t) => `(select count(*) from pgqrs_${t}) as ${t}`).join(', ')},
            (select count(*) from chaos_canary where n = 1) as canary`,
        )
        .get() as Counts
    },
    async close() {
      await store.close()
      raw.close()
    },
  }
}

/**
 * Runs `op` and checks the stored state around it: the tables never change, the canary stays, and
 * only `allowed` counts may move (by at most the given amount; a failed op moves nothing).
 */
async function guarded<T>(
  bench: Bench,
  property: string,
  input: unknown,
  allowed: Partial<Record<Table, number | readonly [number, number]>>,
  op: () => Promise<T>,
  codes: readonly string[] = ['VALIDATION', 'CONFIG'],
): Promise<{ ok: true; value: T } | { ok: false; code: string }> {
  const tablesBefore = await bench.tables()
  const before = await bench.counts()
  let result: { ok: true; value: T } | { ok: false; code: string }
  try {
    result = { ok: true, value: await op() }
  } catch (e) {
    try {
      result = { ok: false, code: typedCode(e, codes, `${property} ${show(input)}`) }
    } catch (wrong) {
      tally(`${bench.backend}: ${property}`, 'VIOLATION')
      throw wrong
    }
  }
  const tablesAfter = await bench.tables()
  const after = await bench.counts()
  const where = `${bench.backend} ${property} ${show(input)}`
  expect(tablesAfter, `${where}: the set of tables changed`).toEqual(tablesBefore)
  expect(after.canary, `${where}: the canary row is gone`).toBe(1)
  for (const t of TABLES) {
    const delta = after[t] - before[t]
    const a = result.ok ? (allowed[t] ?? 0) : 0
    const [min, max] = typeof a === 'number' ? [0, a] : a
    expect(
      delta >= min && delta <= max,
      `${where}: ${t} changed by ${delta} (allowed ${min}..${max})`,
    ).toBe(true)
  }
  tally(`${bench.backend}: ${property}`, result.ok ? 'accepted' : `refused ${result.code}`)
  return result
}

/** Strings every string property always tries (besides the random ones). */
const ALWAYS = [
  '\u0000',
  'a\u0000b',
  '\uD800',
  'k\uDC00',
  '\u{1F600}',
  '',
  ' ',
  INJECTIONS[0]!,
  INJECTIONS[4]!,
]

/**
 * fast-check with the run's seed and no shrinking through the database (the first failure is
 * reported); `examples` are always tried first, so known-nasty inputs never depend on the seed.
 */
async function check(
  property: string,
  p: fc.IAsyncProperty<any>,
  examples: unknown[][] = [],
  numRuns = NUM_RUNS,
): Promise<void> {
  try {
    await fc.assert(p, { numRuns, seed: SEED, endOnFailure: true, examples: examples as never })
  } catch (e) {
    violations.push(`${property}: ${(e as Error).message.split('\n').slice(0, 6).join(' ')}`)
    throw e
  }
}

for (const backend of ['postgres', 'sqlite'] as const) {
  describe.skipIf(backend === 'postgres' && !pgUrl)(`${backend}: hostile input`, () => {
    let bench: Bench
    beforeAll(async () => {
      bench = backend === 'postgres' ? await postgresBench() : await sqliteBench()
      await bench.store.queue('hostile_rt')
    })
    afterAll(async () => {
      await bench?.close()
    })

    it('payloads round-trip exactly or fail with ValidationError', async () => {
      await check(
        `${backend} payload`,
        fc.asyncProperty(payloadArb, async (payload) => {
          await purgeLeftovers(bench)
          const r = await guarded(bench, 'payload', payload, { archive: 1 }, async () => {
            const [m] = await bench.store.messages.enqueue('hostile_rt', [{ payload }])
            const [got] = await bench.store.messages.dequeue('hostile_rt', {
              batchSize: 1,
              leaseMs: 10_000,
            })
            expect(got?.id).toBe(m!.id)
            expect(got!.payload).toEqual(jsonNormalised(payload))
            expect(await bench.store.messages.archive([got!])).toEqual([true])
          })
          return r !== undefined
        }),
        [
          ...ALWAYS.map((x) => [x]),
          [JSON.parse('{"__proto__": {"x": 1}}')],
          ['x'.repeat(1_048_574)],
          ['x'.repeat(1_048_575)],
        ],
      )
    })

    it('a batch with one bad payload is refused whole, naming its index', async () => {
      await check(
        `${backend} batch`,
        fc.asyncProperty(
          fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 5 }),
          fc.nat(),
          fc.constantFrom<unknown>(undefined, 10n, '\u0000', '\uD800', {
            __proto__: null,
            constructor: 1,
          }),
          async (good, at, bad) => {
            const items: unknown[] = [...good]
            const index = at % (items.length + 1)
            items.splice(index, 0, bad)
            const r = await guarded(bench, 'batch', items, {}, () =>
              bench.store.messages.enqueue(
                'hostile_rt',
                items.map((payload) => ({ payload })),
              ),
            )
            if (r.ok) throw new Error(`batch with a bad payload at ${index} was accepted`)
            return true
          },
        ),
      )
    })

    it('queue names: exact round trip or ValidationError', async () => {
      await check(
        `${backend} queue name`,
        fc.asyncProperty(nameLike, async (name) => {
          let existed = false
          try {
            existed = (await bench.store.queues.get(name)) !== null
          } catch {}
          const r = await guarded(
            bench,
            'queue name',
            name,
            { queues: existed ? 0 : 1, archive: 1 },
            async () => {
              const q = await bench.store.queue(name)
              expect(q.name).toBe(name)
              expect((await bench.store.queues.get(name))?.name).toBe(name)
              await bench.store.messages.enqueue(name, [{ payload: { name } }])
              const [m] = await bench.store.messages.dequeue(name, {
                batchSize: 1,
                leaseMs: 10_000,
              })
              expect(m?.queue).toBe(name)
              expect(m?.payload).toEqual({ name })
              await bench.store.messages.archive([m!])
            },
          )
          return r !== undefined
        }),
        ALWAYS.map((x) => [x]),
      )
    })

    it('workflow names: exact round trip or ValidationError / ConfigError', async () => {
      await check(
        `${backend} workflow name`,
        fc.asyncProperty(nameLike, async (name) => {
          let existed = false
          try {
            existed = (await bench.store.queues.get(name)) !== null
          } catch {}
          const r = await guarded(
            bench,
            'workflow name',
            name,
            { queues: existed ? 0 : 1, workflows: 1, runs: 1, messages: 1 },
            async () => {
              const wf = defineWorkflow({ name, run: async () => 1 })
              const h = await wf.start(bench.store, { name })
              expect((await bench.store.workflows.get(name))?.name).toBe(name)
              expect((await h.status()).workflow).toBe(name)
              expect((await h.status()).input).toEqual({ name })
            },
          )
          return r !== undefined
        }),
        ALWAYS.map((x) => [x]),
      )
    })

    it('dedupe keys: exact round trip (and dedupe) or ValidationError', async () => {
      await check(
        `${backend} dedupe key`,
        fc.asyncProperty(nastyString, async (key) => {
          await purgeLeftovers(bench)
          const r = await guarded(bench, 'dedupe key', key, { archive: 1 }, async () => {
            const [a] = await bench.store.messages.enqueue('hostile_rt', [
              { payload: 1, dedupeKey: key },
            ])
            const [b] = await bench.store.messages.enqueue('hostile_rt', [
              { payload: 2, dedupeKey: key },
            ])
            expect(a!.dedupeKey).toBe(key)
            expect(b!.id).toBe(a!.id)
            expect((await bench.store.messages.get(a!.id))?.dedupeKey).toBe(key)
            const [m] = await bench.store.messages.dequeue('hostile_rt', {
              batchSize: 5,
              leaseMs: 10_000,
            })
            expect(m?.id).toBe(a!.id)
            await bench.store.messages.archive([m!])
          })
          return r !== undefined
        }),
        ALWAYS.map((x) => [x]),
      )
    })

    it('idempotency keys: exact round trip (same run twice) or ValidationError', async () => {
      const wf = defineWorkflow({ name: 'hostile_idem', run: async () => 1 })
      await wf.ensure(bench.store)
      await check(
        `${backend} idempotency key`,
        fc.asyncProperty(nastyString, fc.nat(), async (key, salt) => {
          // a salt keeps keys of different cases apart; the hostile part stays in the key
          const k = salt % 2 === 0 ? key : `${salt}:${key}`
          const r = await guarded(
            bench,
            'idempotency key',
            k,
            { runs: 1, messages: 1 },
            async () => {
              const a = await wf.start(bench.store, { n: 1 }, { idempotencyKey: k })
              const b = await wf.start(bench.store, { other: true }, { idempotencyKey: k })
              expect(b.id).toBe(a.id)
              expect((await a.status()).idempotencyKey).toBe(k)
            },
          )
          return r !== undefined
        }),
        ALWAYS.map((x) => [x, 0]),
      )
    })

    it('worker names: exact round trip or ValidationError / ConfigError', async () => {
      await check(
        `${backend} worker name`,
        fc.asyncProperty(nastyString, fc.nat(), async (name, salt) => {
          const n = salt % 3 === 0 ? name : `${name}#${salt}`
          const r = await guarded(bench, 'worker name', n, { workers: 1 }, async () => {
            const w = worker(bench.store, 'hostile_rt', async () => {}, {
              name: n,
              pollIntervalMs: 50,
            })
            await w.start()
            try {
              expect(w.record?.name).toBe(n)
              expect((await bench.store.workers.getByName(n))?.name).toBe(n)
              expect(WORKER_STATUSES).toContain(w.record?.status)
            } finally {
              await w.stop({ graceMs: 0 })
            }
          })
          return r !== undefined
        }),
        ALWAYS.map((x) => [x, 0]),
      )
    })

    it('step names: exact round trip or ValidationError', async () => {
      const wf = defineWorkflow({ name: 'hostile_steps', run: async () => 1 })
      await wf.ensure(bench.store)
      await check(
        `${backend} step name`,
        fc.asyncProperty(nastyString, async (stepName) => {
          await wf.start(bench.store, {})
          const [msg] = await bench.store.messages.dequeue('hostile_steps', {
            batchSize: 1,
            leaseMs: 10_000,
          })
          const run = await runBuilder().message(msg!).store(bench.store).execute()
          try {
            await guarded(bench, 'step name', stepName, { steps: 1 }, async () => {
              const out = await run.step(stepName, async () => 42)
              expect(out).toBe(42)
              const steps = await bench.store.steps.list(run.id)
              expect(steps.map((x) => x.stepKey)).toEqual([stepName])
            })
          } finally {
            await bench.store.messages.archive([msg!])
          }
          return true
        }),
        ALWAYS.map((x) => [x]),
      )
    })

    it('options: dequeue / enqueue options are used or refused with ValidationError', async () => {
      const num = fc.oneof(
        fc.integer({ min: -5, max: 2_000 }),
        fc.double(),
        fc.constantFrom<unknown>(0, -0, 1e21, Number.MAX_SAFE_INTEGER + 2, '5', null, true, [], {}),
      )
      await check(
        `${backend} options`,
        fc.asyncProperty(
          fc.record(
            { batchSize: num, leaseMs: num, delayMs: num, priority: num, maxAttempts: num },
            { requiredKeys: [] },
          ),
          async (o: Record<string, unknown>) => {
            await purgeLeftovers(bench)
            const e = await guarded(bench, 'enqueue options', o, { messages: 1 }, () =>
              bench.store.messages.enqueue('hostile_rt', [
                {
                  payload: o,
                  delayMs: o.delayMs,
                  priority: o.priority,
                  maxAttempts: o.maxAttempts,
                } as never,
              ]),
            )
            const d = await guarded(bench, 'dequeue options', o, {}, () =>
              bench.store.messages.dequeue('hostile_rt', {
                batchSize: (o.batchSize as number) ?? 1,
                leaseMs: (o.leaseMs as number) ?? 10_000,
              }),
            )
            if (e.ok && d.ok && d.value.length > 0) {
              expect(d.value[0]!.id).toBe(e.value[0]!.id)
              expect(d.value[0]!.payload).toEqual(jsonNormalised(o))
              if (typeof o.priority === 'number') expect(d.value[0]!.priority).toBe(o.priority)
              if (typeof o.maxAttempts === 'number')
                expect(d.value[0]!.maxAttempts).toBe(o.maxAttempts)
            }
            await purgeLeftovers(bench)
            return true
          },
        ),
      )
    })

    it('config and worker options: used or refused with ConfigError / ValidationError', async () => {
      const v = fc.oneof(
        fc.integer({ min: -10, max: 100_000 }),
        fc.double(),
        nastyString,
        fc.constantFrom<unknown>(null, undefined, true, [], {}, () => 1),
      )
      await check(
        `${backend} config`,
        fc.asyncProperty(
          fc.oneof(
            fc.record(
              {
                leaseMs: fc.integer({ min: 1, max: 100_000 }),
                maxAttempts: fc.integer({ min: 1, max: 100 }),
                pollIntervalMs: fc.integer({ min: 1, max: 5_000 }),
                maxConnections: fc.integer({ min: 1, max: 50 }),
                validation: fc.constantFrom<unknown>(false, {}, { maxDepth: 5 }),
                schema: fc.constantFrom('ok_schema', 'Jobs', '_x$1'),
              },
              { requiredKeys: [] },
            ),
            fc.record(
              {
                leaseMs: v,
                maxAttempts: v,
                pollIntervalMs: v,
                maxConnections: v,
                validation: fc.constantFrom<unknown>(false, {}, { maxDepth: 0 }, 'off', null),
                schema: fc.oneof(nastyString, fc.constantFrom('ok_schema')),
                typo: v,
              },
              { requiredKeys: [] },
            ),
          ),
          fc.oneof(
            fc.record(
              {
                concurrency: fc.integer({ min: 1, max: 100 }),
                batchSize: fc.integer({ min: 1, max: 1_000 }),
                leaseMs: fc.integer({ min: 100, max: 100_000 }),
                graceMs: fc.integer({ min: 0, max: 10_000 }),
                name: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,30}$/),
              },
              { requiredKeys: [] },
            ),
            fc.record(
              { concurrency: v, batchSize: v, leaseMs: v, graceMs: v, name: nastyString },
              { requiredKeys: [] },
            ),
          ),
          async (config: Record<string, unknown>, workerOptions: Record<string, unknown>) => {
            const file = path.join(tmpRoot, 'hostile', 'config.db')
            fs.mkdirSync(path.dirname(file), { recursive: true })
            await guarded(bench, 'config', config, {}, async () => {
              const s = await connect(`sqlite://${file}`, { ...config, logger: false } as never)
              await s.close()
            })
            await guarded(bench, 'worker options', workerOptions, {}, async () => {
              const w = new Worker(
                bench.store,
                'hostile_rt',
                async () => {},
                workerOptions as never,
              )
              expect(w.state).toBe('idle')
            })
            return true
          },
        ),
      )
    })

    it('SQL injection in every string parameter changes nothing', async () => {
      const wf = defineWorkflow({ name: 'hostile_inject', run: async () => 1 })
      await wf.ensure(bench.store)
      const failures: string[] = []
      const attempt = async (what: string, s: string, fn: () => Promise<unknown>) => {
        try {
          await fn()
        } catch (e) {
          failures.push(`${what} ${show(s)}: ${(e as Error).message.split('\n')[0]}`)
        }
      }
      for (const s of INJECTIONS) {
        await attempt('queue name', s, () =>
          guarded(bench, 'inject: queue name', s, { queues: 1, archive: 1 }, async () => {
            expect((await bench.store.queue(s)).name).toBe(s)
          }),
        )
        await purgeLeftovers(bench)
        await attempt('payload + dedupe key', s, () =>
          guarded(bench, 'inject: payload', s, { archive: 1 }, async () => {
            await bench.store.messages.enqueue('hostile_rt', [
              { payload: { [s]: s, list: [s] }, dedupeKey: s },
            ])
            const [m] = await bench.store.messages.dequeue('hostile_rt', {
              batchSize: 1,
              leaseMs: 10_000,
            })
            expect(m!.payload).toEqual({ [s]: s, list: [s] })
            expect(m!.dedupeKey).toBe(s)
            await bench.store.messages.archive([m!])
          }),
        )
        await attempt('worker name', s, () =>
          guarded(bench, 'inject: worker name', s, { workers: 1 }, async () => {
            const w = worker(bench.store, 'hostile_rt', async () => {}, { name: s })
            await w.start()
            try {
              expect((await bench.store.workers.getByName(s))?.name).toBe(s)
            } finally {
              await w.stop({ graceMs: 0 })
            }
          }),
        )
        await attempt('idempotency key', s, () =>
          guarded(bench, 'inject: idempotency key', s, { runs: 1, messages: 1 }, async () => {
            const h = await wf.start(bench.store, { s }, { idempotencyKey: s })
            expect((await h.status()).idempotencyKey).toBe(s)
          }),
        )
        await attempt('workflow name', s, () =>
          guarded(
            bench,
            'inject: workflow name',
            s,
            { queues: 1, workflows: 1, runs: 1, messages: 1 },
            async () => {
              await defineWorkflow({ name: s, run: async () => 1 }).start(bench.store, {})
            },
          ),
        )
        await attempt('schema option', s, () =>
          guarded(bench, 'inject: schema option', s, {}, async () => {
            const st = new PostgresStore({
              connectionString: pgUrl || 'postgres://127.0.0.1:1/x',
              schema: s,
              logger: false,
            })
            await st.close()
            throw new Error(`schema ${show(s)} was accepted`)
          }),
        )
        await attempt('lease token', s, () =>
          guarded(bench, 'inject: lease token', s, {}, async () => {
            expect(await bench.store.messages.archive([{ id: 1, lease: s }])).toEqual([false])
          }),
        )
      }
      await purgeLeftovers(bench)
      violations.push(...failures.map((f) => `${backend} injection: ${f}`))
      expect(failures).toEqual([])
    })

    if (backend === 'postgres') {
      it('schema option: a valid name installs exactly that schema; anything else is a ConfigError', async () => {
        const admin = new pg.Client({ connectionString: pgUrl })
        await admin.connect()
        try {
          await check(
            'postgres schema option',
            fc.asyncProperty(
              // up to the 63 bytes Postgres allows, `$` included (it used to break function bodies)
              fc.oneof(nastyString, fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/)),
              async (schema) => {
                fc.pre(!/^(pg_|public$|information_schema$|chaos_|pgqrs)/i.test(schema))
                const exists = async () =>
                  (await admin.query('select 1 from pg_namespace where nspname = $1', [schema]))
                    .rowCount === 1
                let store: PostgresStore | null = null
                try {
                  store = new PostgresStore({
                    connectionString: pgUrl,
                    schema,
                    logger: false,
                    maxConnections: 2,
                  })
                } catch (e) {
                  tally(
                    'postgres: schema option',
                    `refused ${typedCode(e, ['CONFIG'], `schema ${show(schema)}`)}`,
                  )
                  return true
                }
                try {
                  await store.migrate()
                  expect(await exists()).toBe(true)
                  await store.queue('q')
                  // the enqueue NOTIFYs on the schema's channel (hashed past 63 bytes)
                  expect(await store.messages.enqueue('q', [{ payload: 1 }])).toHaveLength(1)
                  tally('postgres: schema option', 'accepted')
                } finally {
                  await store.close()
                  await admin.query(
                    `drop schema if exists "${schema.replaceAll('"', '""')}" cascade`,
                  )
                }
                return true
              },
            ),
          )
        } finally {
          await admin.end()
        }
      })

      it('two schemas on one database never see each other', async () => {
        const mk = (schema: string) =>
          new PostgresStore({ connectionString: pgUrl, schema, logger: false, maxConnections: 2 })
        const a = mk(`chaos_iso_a_${process.pid}`)
        const b = mk(`chaos_iso_b_${process.pid}`)
        await a.migrate()
        await b.migrate()
        try {
          await check(
            'postgres schema isolation',
            fc.asyncProperty(
              fc.stringMatching(NAME_RE),
              // payloads the store accepts (forbidden keys are refused; that is tested above)
              fc.array(fc.jsonValue({ maxDepth: 2 }).filter(noForbiddenKey), {
                minLength: 1,
                maxLength: 8,
              }),
              fc.boolean(),
              async (queue, payloads, aToB) => {
                const [from, to] = aToB ? [a, b] : [b, a]
                await from.queue(queue)
                await to.queue(queue)
                const otherBefore = await to.queues.allMetrics()
                const sent = await from.messages.enqueue(
                  queue,
                  payloads.map((payload) => ({ payload })),
                )
                expect(
                  await to.messages.dequeue(queue, { batchSize: 100, leaseMs: 10_000 }),
                ).toEqual([])
                expect(await to.queues.allMetrics()).toEqual(otherBefore)
                const got = await from.messages.dequeue(queue, { batchSize: 100, leaseMs: 10_000 })
                expect(got.map((m) => m.id).sort((x, y) => x - y)).toEqual(
                  sent.map((m) => m.id).sort((x, y) => x - y),
                )
                expect(got.map((m) => m.payload)).toEqual(
                  [...sent].sort((x, y) => x.id - y.id).map((m) => jsonNormalised(m.payload)),
                )
                await from.messages.archive(got)
                tally('postgres: schema isolation', 'isolated')
                return true
              },
            ),
          )
        } finally {
          await a.close()
          await b.close()
        }
      })
    }

    if (backend === 'sqlite') {
      it('DSNs: parsed, opened or refused with ConfigError / ConnectionError', async () => {
        const closedPort = 1 // nothing listens on port 1
        const safeSegment = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,12}$/)
        const dsn = fc.oneof(
          fc.string(),
          fc.webUrl(),
          nastyString,
          fc.constantFrom(...INJECTIONS.map((s) => `postgres://u@127.0.0.1:${closedPort}/${s}`)),
          fc
            .tuple(
              fc.constantFrom(
                'postgres',
                'postgresql',
                'POSTGRES',
                'pg',
                'mysql',
                'sqlite3',
                'libsql+http',
                '',
              ),
              nastyString,
              nastyString,
            )
            .map(
              ([scheme, user, db]) => `${scheme}://${enc(user)}@127.0.0.1:${closedPort}/${enc(db)}`,
            ),
          fc
            .tuple(fc.constantFrom('sqlite', 'turso'), safeSegment)
            .map(
              ([scheme, name]) => `${scheme}://${path.join(tmpRoot, 'hostile', 'dsn')}/${name}.db`,
            ),
          fc.constantFrom(
            'sqlite:',
            'sqlite://',
            'sqlite://relative-but-double-slash.db',
            'turso:',
            'libsql://',
            'postgres://',
            'postgres://:5432/db',
            'postgresql://user@127.0.0.1:99999/db',
            'sqlite:///nonexistent-dir-chaos/sub/x.db',
            'turso:///nonexistent-dir-chaos/sub/x.db',
            'sqlite:%zz',
          ),
        )
        fs.mkdirSync(path.join(tmpRoot, 'hostile', 'dsn'), { recursive: true })
        await check(
          'dsn',
          fc.asyncProperty(dsn, async (d) => {
            // parseDsn never throws anything but ConfigError
            try {
              parseDsn(d)
            } catch (e) {
              typedCode(e, ['CONFIG'], `parseDsn ${show(d)}`)
            }
            // connect() only where it cannot reach out: loopback port 1, or local files in our scratch dir
            let parsed: ReturnType<typeof parseDsn> | null = null
            try {
              parsed = parseDsn(d)
            } catch {}
            const local =
              parsed === null ||
              (parsed.backend === 'postgres' && /@127\.0\.0\.1:1\//.test(d)) ||
              (parsed.backend === 'sqlite' &&
                (parsed.path.startsWith(tmpRoot) ||
                  parsed.path.startsWith('/nonexistent-dir-chaos'))) ||
              (parsed.backend === 'turso' && parsed.url.startsWith(`file:${tmpRoot}`)) ||
              (parsed.backend === 'turso' && parsed.url.startsWith('file:/nonexistent-dir-chaos'))
            if (!local) {
              tally('dsn', 'parsed only')
              return true
            }
            await guarded(
              bench,
              'dsn',
              d,
              {},
              async () => {
                const s = await connect(d, { logger: false, connectTimeoutMs: 2_000 })
                await s.close()
              },
              ['CONFIG', 'CONNECTION'],
            )
            return true
          }),
        )
      })
    }
  })
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,40}$/

/** encodeURIComponent, or the raw string where it cannot encode (lone surrogates). */
function enc(s: string): string {
  try {
    return encodeURIComponent(s)
  } catch {
    return s
  }
}

/** Removes what a case left in the round-trip queue (delayed messages). */
async function purgeLeftovers(bench: Bench): Promise<void> {
  try {
    await bench.store.queues.purge('hostile_rt')
  } catch (e) {
    if (!PgqrsError.is(e)) throw e
  }
}

afterAll(() => {
  writeSection({
    section: 'hostile-input',
    violations,
    durationMs: Date.now() - started,
    data: { numRuns: NUM_RUNS, seed: SEED, injections: INJECTIONS.length, stats },
  })
})
