/**
 * Hostile values (issue 13), property-based on Postgres, SQLite and Turso:
 * - item 1: whatever a workflow body returns or throws (a Date, a BigInt, a class instance, a cycle,
 *   text with NUL or lone surrogates, megabytes of it), its run ends at once after ONE execution:
 *   SUCCESS with the output stored exactly when it is JSON, ERROR with a stored, readable error
 *   otherwise; the message is archived, never retried;
 * - item 2: whatever text a queue handler's error holds, `fail` stores it (NUL removed, well-formed,
 *   cut with a marker) and schedules the retry; it never throws;
 * - item 8: delays, priorities, attempt counts and instants of any size are either stored as valid
 *   values or refused with a ValidationError naming the field, by the same rule on every backend;
 * - item 11: names and host names with any characters print in the CLI's tables without a control
 *   or bidi character reaching the terminal, and exactly in its JSON.
 */
import fs from 'node:fs'
import path from 'node:path'
import { run as cli } from '@pgqrs/cli'
import { MAX_DELAY_MS, PgqrsError, RUN_AT_RANGE, type Store, ValidationError } from '@pgqrs/core'
import { PostgresStore } from '@pgqrs/store-postgres'
import { SqliteStore } from '@pgqrs/store-sqlite'
import { TursoStore } from '@pgqrs/store-turso'
import { executeDelivery } from '@pgqrs/workflow'
import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { nastyString, show } from '../src/hostile.ts'
import { writeSection } from '../src/results.ts'
import { chaosSettings } from '../src/settings.ts'

const settings = chaosSettings()
const pgUrl = inject('pgUrl')
const tmpRoot = inject('tmpRoot')
const started = Date.now()
const SEED = settings.seed
const NUM_RUNS = settings.numRuns

const stats: Record<string, Record<string, number>> = {}
const violations: string[] = []
const tally = (property: string, outcome: string) => {
  stats[property] ??= {}
  const s = stats[property]
  s[outcome] = (s[outcome] ?? 0) + 1
  s.tried = (s.tried ?? 0) + 1
}

/** A control or bidi character a terminal would act on. */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

/** A class whose instances are no JSON. */
class Money {
  readonly cents: number
  constructor(cents: number) {
    this.cents = cents
  }
}

/** What a body may return: JSON, and values that are not. */
const outputArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.date({ noInvalidDate: true }),
  fc.bigInt(),
  fc.integer().map((n) => new Money(n)),
  fc.constant(new Map([['a', 1]])),
  fc.constant(() => 1),
  fc.constant(Number.NaN),
  fc.constant(Symbol('s')),
  nastyString.map((s) => ({ text: s })),
  fc.constant(
    (() => {
      const cycle: Record<string, unknown> = {}
      cycle.self = cycle
      return cycle
    })(),
  ),
)

/** What a body may throw: Errors with nasty or huge messages, and things that are no Error. */
const thrownArb: fc.Arbitrary<unknown> = fc.oneof(
  nastyString.map((s) => new Error(s)),
  nastyString.map((s) => new TypeError(`${s}${'x'.repeat(20_000)}`)),
  nastyString,
  fc.constant(undefined),
  fc.constant(null),
  fc.bigInt(),
  fc.jsonValue({ maxDepth: 2 }),
)

/** True when `v` round-trips through JSON exactly (what a store keeps as an output). */
function isJson(v: unknown): boolean {
  // The documented payload rules (SPEC): plain objects and arrays, finite numbers, strings of
  // well-formed Unicode without NUL, none of the default forbidden keys, at most 32 levels deep.
  const text = (t: string) => !t.includes('\u0000') && t.isWellFormed()
  const forbidden = ['__proto__', 'constructor', 'prototype']
  const plain = (x: unknown, depth = 0): boolean =>
    x === null ||
    typeof x === 'boolean' ||
    Number.isFinite(x) ||
    (typeof x === 'string' && text(x)) ||
    (depth < 32 && Array.isArray(x) && x.every((y) => plain(y, depth + 1))) ||
    (depth < 32 &&
      typeof x === 'object' &&
      Object.getPrototypeOf(x) === Object.prototype &&
      Object.entries(x as object).every(
        ([k, y]) => text(k) && !forbidden.includes(k) && plain(y, depth + 1),
      ))
  try {
    JSON.stringify(v) // cyclic values throw here, before the walk below
    if (!plain(v)) return false
    return JSON.stringify(JSON.parse(JSON.stringify(v))) === JSON.stringify(v) && v !== undefined
  } catch {
    return false
  }
}

interface Bench {
  readonly backend: 'postgres' | 'sqlite' | 'turso'
  readonly store: Store
  /** The DSN another process (or the CLI) opens the same database with. */
  readonly dsn: string
  readonly schema?: string
  close(): Promise<void>
}

async function openBench(backend: Bench['backend']): Promise<Bench> {
  const dir = path.join(tmpRoot, `hostile-values-${backend}`)
  fs.mkdirSync(dir, { recursive: true })
  if (backend === 'postgres') {
    const schema = `chaos_values_${process.pid}`
    const store = new PostgresStore({ connectionString: pgUrl, schema, logger: false })
    await store.migrate()
    return {
      backend,
      store,
      dsn: pgUrl,
      schema,
      async close() {
        const admin = new pg.Client({ connectionString: pgUrl })
        await admin.connect()
        await admin.query(`drop schema if exists "${schema}" cascade`)
        await admin.end()
        await store.close()
      },
    }
  }
  const file = path.join(dir, 'values.db')
  const store =
    backend === 'sqlite'
      ? new SqliteStore({ path: file, logger: false })
      : new TursoStore({ url: `file:${file}`, logger: false })
  await store.migrate()
  return {
    backend,
    store,
    dsn: `${backend === 'sqlite' ? 'sqlite' : 'turso'}://${file}`,
    close: () => store.close(),
  }
}

/** fast-check with the run's seed, no shrinking through the database; failures are collected. */
async function check(property: string, p: fc.IAsyncProperty<any>, numRuns = NUM_RUNS) {
  try {
    await fc.assert(p, { numRuns, seed: SEED, endOnFailure: true })
  } catch (e) {
    violations.push(`${property}: ${(e as Error).message.split('\n').slice(0, 6).join(' ')}`)
    throw e
  }
}

/** Starts a run of `workflow` and leases its message: a delivery to execute by hand. */
async function delivery(store: Store, workflow: string) {
  const { run } = await store.runs.start(workflow, {})
  const [msg] = await store.messages.dequeue(workflow, { batchSize: 1, leaseMs: 60_000 })
  expect(msg?.id).toBe(run.messageId)
  return { runId: run.id, msg: msg! }
}

const BACKENDS = ['postgres', 'sqlite', 'turso'] as const

for (const backend of BACKENDS) {
  describe.skipIf(backend === 'postgres' && !pgUrl)(`${backend}: hostile values`, () => {
    let bench: Bench
    beforeAll(async () => {
      bench = await openBench(backend)
      await bench.store.workflows.ensure('values_wf')
      await bench.store.queue('values_q')
    })
    afterAll(async () => {
      await bench?.close()
    })

    it('item 1: whatever a body returns or throws, the run ends at once after one execution', async () => {
      const property = `${backend}: workflow output or error`
      await check(
        property,
        fc.asyncProperty(fc.boolean(), outputArb, thrownArb, async (returns, output, thrown) => {
          const { store } = bench
          const { runId, msg } = await delivery(store, 'values_wf')
          let executions = 0
          await executeDelivery(store, msg, async () => {
            executions++
            if (returns) return output
            throw thrown
          })
          const run = await store.runs.get(runId)
          const stored = await store.messages.get(msg.id)
          const where = `${property} ${returns ? 'returns' : 'throws'} ${show(returns ? output : thrown)}`
          expect(executions, where).toBe(1)
          expect(stored?.archivedAt, `${where}: message archived, not retried`).toBeInstanceOf(Date)
          if (returns && isJson(output)) {
            expect(run?.status, where).toBe('SUCCESS')
            expect(run?.output, where).toEqual(JSON.parse(JSON.stringify(output)))
            tally(property, 'stored')
          } else {
            expect(run?.status, where).toBe('ERROR')
            const error = run?.error as { message?: unknown; name?: unknown }
            expect(typeof error?.message, where).toBe('string')
            const text = error.message as string
            expect(text.includes('\u0000') || !text.isWellFormed(), where).toBe(false)
            expect(text.length, where).toBeLessThanOrEqual(4_000)
            if (returns) expect(text, where).toMatch(/output could not be stored/)
            tally(property, returns ? 'refused output' : 'stored error')
          }
          return true
        }),
      )
    })

    it('item 2: whatever text a handler error holds, fail stores it cleaned and schedules the retry', async () => {
      const property = `${backend}: handler error text`
      await check(
        property,
        fc.asyncProperty(
          fc.oneof(
            nastyString,
            nastyString.map((s) => `${s}${'é\u0000'.repeat(8_000)}`),
          ),
          async (text) => {
            const { store } = bench
            await store.messages.enqueue('values_q', [{ payload: 1 }])
            const [msg] = await store.messages.dequeue('values_q', {
              batchSize: 1,
              leaseMs: 60_000,
            })
            const outcome = await store.messages.fail(msg!, text, 0)
            expect(outcome, show(text)).toBe('retried')
            const stored = (await store.messages.get(msg!.id))?.lastError ?? ''
            expect(stored.includes('\u0000'), show(text)).toBe(false)
            expect(stored.isWellFormed(), show(text)).toBe(true)
            expect(stored.length, show(text)).toBeLessThanOrEqual(10_000)
            const clean = text.replaceAll('\u0000', '').toWellFormed()
            if (clean.length <= 10_000) expect(stored, show(text)).toBe(clean)
            await store.queues.purge('values_q')
            tally(property, 'stored')
            return true
          },
        ),
      )
    })

    it('item 8: numbers and instants of any size are stored as valid values or refused by the one rule', async () => {
      const property = `${backend}: bounds`
      const number = fc.oneof(
        fc.integer(),
        fc.integer({ min: 0, max: MAX_DELAY_MS + 10 }),
        fc.constantFrom(2 ** 31, 2 ** 31 - 1, 2 ** 53 - 1, MAX_DELAY_MS, MAX_DELAY_MS + 1, -1, 0),
        fc.double(),
      )
      const instant = fc.oneof(
        fc.date({ noInvalidDate: true }),
        fc.constantFrom(RUN_AT_RANGE.min, RUN_AT_RANGE.max, new Date(-1), new Date(8.64e15)),
      )
      await check(
        property,
        fc.asyncProperty(
          number,
          number,
          number,
          instant,
          async (delayMs, priority, attempts, runAt) => {
            const { store } = bench
            const cases: readonly [string, number | Date, boolean, () => Promise<unknown>][] = [
              [
                'delayMs',
                delayMs,
                Number.isSafeInteger(delayMs) && delayMs >= 0 && delayMs <= MAX_DELAY_MS,
                () => store.messages.enqueue('values_q', [{ payload: 1, delayMs }]),
              ],
              [
                'priority',
                priority,
                Number.isSafeInteger(priority) && Math.abs(priority) <= 2 ** 31 - 1,
                () => store.messages.enqueue('values_q', [{ payload: 1, priority }]),
              ],
              [
                'maxAttempts',
                attempts,
                Number.isSafeInteger(attempts) && attempts >= 1 && attempts <= 1_000_000,
                () => store.messages.enqueue('values_q', [{ payload: 1, maxAttempts: attempts }]),
              ],
              [
                'runAt',
                runAt,
                runAt >= RUN_AT_RANGE.min && runAt <= RUN_AT_RANGE.max,
                () => store.messages.enqueue('values_q', [{ payload: 1, runAt }]),
              ],
              [
                'olderThanMs',
                delayMs,
                Number.isSafeInteger(delayMs) && delayMs >= 0 && delayMs <= MAX_DELAY_MS,
                () => store.messages.purgeArchived({ olderThanMs: delayMs }),
              ],
            ]
            for (const [field, value, allowed, call] of cases) {
              const where = `${property} ${field}=${show(value)}`
              const got = await call().then(
                (v) => ({ ok: true as const, v }),
                (e: unknown) => ({ ok: false as const, e }),
              )
              expect(got.ok, `${where}: accepted exactly when within the documented range`).toBe(
                allowed,
              )
              if (!got.ok) {
                expect(ValidationError.is(got.e), `${where}: ${String(got.e)}`).toBe(true)
                expect((got.e as ValidationError).field, where).toContain(field)
              } else if (Array.isArray(got.v)) {
                for (const m of got.v as { visibleAt: Date }[])
                  expect(
                    Number.isNaN(m.visibleAt.getTime()),
                    `${where}: stored a valid instant`,
                  ).toBe(false)
              }
              tally(property, got.ok ? 'stored' : 'refused VALIDATION')
            }
            await store.queues.purge('values_q')
            return true
          },
        ),
      )
    })

    it('item 11: worker and host names of any characters print safely in CLI tables and exactly in JSON', async () => {
      const property = `${backend}: CLI output`
      const schemaArgs = bench.schema ? ['--schema', bench.schema] : []
      const capture = async (args: string[]) => {
        let out = ''
        let err = ''
        const code = await cli(['--dsn', bench.dsn, ...schemaArgs, ...args], {
          stdout: (s) => {
            out += s
          },
          stderr: (s) => {
            err += s
          },
        })
        return { code, out, err }
      }
      let n = 0
      await check(
        property,
        fc.asyncProperty(nastyString, nastyString, async (name, host) => {
          const { store } = bench
          const fullName = `w${n++}-${name}`
          const registered = await store.workers
            .register({ name: fullName, hostname: host, pid: 1 })
            .then(
              (w) => w,
              (e: unknown) => {
                if (!PgqrsError.is(e)) throw e
                return null
              },
            )
          const table = await capture(['workers', 'list'])
          expect(table.code, table.err).toBe(0)
          expect(UNSAFE.test(table.out), `${property} ${show(fullName)} ${show(host)}`).toBe(false)
          const json = await capture(['workers', 'list', '--format', 'json'])
          const rows = JSON.parse(json.out) as { id: number; name: string; hostname: string }[]
          if (registered) {
            const row = rows.find((r) => r.id === registered.id)
            expect(row?.name).toBe(fullName)
            expect(row?.hostname).toBe(host)
            await store.workers.transition(registered.id, 'suspended')
            await store.workers.transition(registered.id, 'stopped')
            await store.workers.delete(registered.id)
          }
          tally(property, registered ? 'printed' : 'refused VALIDATION')
          return true
        }),
        Math.max(10, Math.floor(NUM_RUNS / 4)),
      )
    })
  })
}

afterAll(() => {
  writeSection({
    section: 'hostile-values',
    violations,
    durationMs: Date.now() - started,
    data: { numRuns: NUM_RUNS, seed: SEED, stats },
  })
})
