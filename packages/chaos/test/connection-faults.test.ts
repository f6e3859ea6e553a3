/**
 * Connection faults: a loopback TCP proxy (src/proxy.ts) between the workers and PostgreSQL drops,
 * delays, refuses, black-holes and freezes connections (only the ones going through it). Every
 * failing operation must fail with a typed pgqrs error (ConnectionError / StoreError, never an
 * untyped error or a crash), the worker loops must recover, and nothing may be lost.
 */
import { connect, PgqrsError, type QueueMessage, type Store } from '@pgqrs/core'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { addFigures, emptyFigures, type Enqueued, type Figures } from '../src/invariants.ts'
import { FaultProxy } from '../src/proxy.ts'
import { writeSection } from '../src/results.ts'
import { chaosSettings, rng } from '../src/settings.ts'
import { postgresTarget, type Target } from '../src/target.ts'
import {
  checkWorkload,
  enqueueWorkload,
  QUEUE,
  trialDir,
  WORKFLOW,
  WorkerPool,
  waitForCompletion,
} from '../src/workload.ts'

const settings = chaosSettings()
const pgUrl = inject('pgUrl')
const tmpRoot = inject('tmpRoot')
const started = Date.now()
const r = rng(settings.seed ^ 0xfa17)
const SIDE = 'chaos_side'

type Outcome = { attempts: number; ok: number; failed: number; errors: Record<string, number> }
const outcome = (): Outcome => ({ attempts: 0, ok: 0, failed: 0, errors: {} })

describe.skipIf(!pgUrl)('connection faults (TCP proxy)', () => {
  let target: Target | null = null
  let proxy: FaultProxy | null = null
  let pool: WorkerPool | null = null
  let viaProxy: Store | null = null
  const violations: string[] = []
  const faults: Record<string, number> = {}
  const ops: Record<string, Outcome> = {}
  let figures: Figures = emptyFigures()
  let side = { enqueued: 0, archived: 0, lost: 0, ambiguous: 0 }

  afterAll(async () => {
    pool?.killAll()
    await viaProxy?.close().catch(() => {})
    await proxy?.close().catch(() => {})
    await target?.close().catch(() => {})
    writeSection({
      section: 'connection-faults',
      violations,
      durationMs: Date.now() - started,
      data: {
        faults,
        ops,
        figures,
        side,
        proxy: proxy?.stats ?? null,
        faultPhaseMs: settings.faultPhaseMs,
      },
    })
  })

  /** Runs `op`, recording success or a typed failure; an untyped error is a violation. */
  async function attempt<T>(name: string, op: () => Promise<T>): Promise<T | undefined> {
    ops[name] ??= outcome()
    const o = ops[name]
    o.attempts++
    try {
      const v = await op()
      o.ok++
      return v
    } catch (e) {
      o.failed++
      const key = PgqrsError.is(e) ? `${e.name}` : `UNTYPED ${(e as Error)?.name}`
      o.errors[key] = (o.errors[key] ?? 0) + 1
      if (!PgqrsError.is(e))
        violations.push(`${name} threw an untyped error: ${(e as Error)?.stack ?? String(e)}`)
      return undefined
    }
  }

  it('operations fail typed, worker loops recover, nothing is lost', async () => {
    const u = new URL(pgUrl)
    target = await postgresTarget(pgUrl, `chaos_faults_${process.pid}`)
    await target.install()
    await target.store.queue(SIDE)
    proxy = new FaultProxy({ host: u.hostname, port: Number(u.port || 5432) })
    const port = await proxy.listen()
    const proxied = new URL(pgUrl)
    proxied.hostname = '127.0.0.1'
    proxied.port = String(port)
    const enqueued: Enqueued = await enqueueWorkload(target, {
      messages: 120,
      runs: 24,
      slowEvery: 10,
    })
    pool = new WorkerPool({
      target,
      dsn: proxied.toString(),
      logDir: trialDir(tmpRoot, 'connection-faults'),
      namePrefix: 'faults',
      leaseMs: 1_000,
      workMs: [20, 80],
      slowMs: [300, 600],
      maxErrorBackoffMs: 800,
      connectTimeoutMs: 1_500,
    })
    await Promise.all([pool.spawn(), pool.spawn(), pool.spawn()])
    viaProxy = await connect(proxied.toString(), {
      ...target.config,
      connectTimeoutMs: 1_500,
      maxConnections: 4,
      logger: false,
    })

    // The suite's own operations through the proxy, all the time the faults go on.
    let running = true
    let seq = 50_000
    const sideOk = new Map<number, number>() // seq -> id
    const sideArchived = new Set<number>()
    const sideFailedSeqs = new Set<number>()
    const txOk = new Map<number, number>() // -seq -> id, committed by a caller transaction
    const opsLoop = (async () => {
      const store = viaProxy!
      while (running) {
        const s = seq++
        const [m] =
          (await attempt('enqueue', () =>
            store.messages.enqueue(QUEUE, [{ payload: { seq: s, slow: false } }]),
          )) ?? []
        if (m) enqueued.messages.push(m.id)
        const started = await attempt('runs.start', () =>
          store.runs.start(WORKFLOW, { seq: s, slow: false }),
        )
        if (started) enqueued.runs.set(started.run.id, started.message.id)
        const sm = await attempt('enqueue (side queue)', () =>
          store.messages.enqueue(SIDE, [{ payload: { side: s } }]),
        )
        if (sm?.[0]) sideOk.set(s, sm[0].id)
        else sideFailedSeqs.add(s)
        const got: QueueMessage[] =
          (await attempt('dequeue', () =>
            store.messages.dequeue(SIDE, { batchSize: 5, leaseMs: 2_000 }),
          )) ?? []
        if (got.length > 0) {
          const res = await attempt('archive', () => store.messages.archive(got))
          res?.forEach((ok, i) => {
            if (ok) sideArchived.add(got[i]!.id)
          })
        }
        // the caller's own transaction (transactional enqueue): BEGIN / COMMIT failures must be typed too
        const tm = await attempt('transaction (enqueue inside)', () =>
          store.transaction((tx) => tx.messages.enqueue(SIDE, [{ payload: { side: -s } }])),
        )
        if (tm?.[0]) txOk.set(-s, tm[0].id)
        await attempt('queue metrics', () => store.queues.metrics(QUEUE))
        await attempt('workers.list', () => store.workers.list())
        await new Promise((res) => setTimeout(res, 25))
      }
    })()

    // The faults.
    const until = Date.now() + settings.faultPhaseMs
    const bump = (k: string) => {
      faults[k] = (faults[k] ?? 0) + 1
    }
    // Every kind of fault in turn (so that even the reduced mode has each), at random intervals.
    const kinds = ['drop', 'refuse', 'delay', 'blackhole', 'drop', 'freeze'] as const
    for (let i = settings.seed % kinds.length; Date.now() < until; i++) {
      await new Promise((res) => setTimeout(res, r.int(300, 900)))
      const kind = kinds[i % kinds.length]!
      if (kind === 'drop') {
        proxy.dropAll()
        bump('drop every connection')
      } else if (kind === 'delay') {
        proxy.delayMs = r.int(50, 400)
        bump('delay every packet 50-400 ms')
        await new Promise((res) => setTimeout(res, r.int(800, 2_000)))
        proxy.delayMs = 0
      } else if (kind === 'refuse') {
        proxy.accept = 'refuse'
        proxy.dropAll()
        bump('drop all, refuse new connections')
        await new Promise((res) => setTimeout(res, r.int(500, 1_500)))
        proxy.accept = 'pass'
      } else if (kind === 'blackhole') {
        proxy.accept = 'blackhole'
        proxy.dropAll()
        bump('drop all, black-hole new connections')
        await new Promise((res) => setTimeout(res, r.int(1_000, 2_500)))
        proxy.accept = 'pass'
        proxy.releaseHoles()
      } else {
        proxy.freezeAll(r.int(800, 1_500))
        bump('freeze open connections, then reset them')
      }
    }
    proxy.delayMs = 0
    proxy.accept = 'pass'
    proxy.releaseHoles()
    running = false
    await opsLoop

    // The side queue: drain what is left directly, then every acknowledged enqueue must be archived.
    for (;;) {
      const got = await target.store.messages.dequeue(SIDE, { batchSize: 100, leaseMs: 5_000 })
      if (got.length === 0) {
        const [left] = await target.query<{ n: string }>(
          `select count(*) as n from "${target.schema}".pgqrs_messages m join "${target.schema}".pgqrs_queues q on q.id = m.queue_id where q.name = $1`,
          [SIDE],
        )
        if (Number(left!.n) === 0) break
        await new Promise((res) => setTimeout(res, 200))
        continue
      }
      const res = await target.store.messages.archive(got)
      res.forEach((ok, i) => {
        if (ok) sideArchived.add(got[i]!.id)
      })
    }
    // Recovery: the workers finish everything through the (now healthy) proxy.
    const done = await waitForCompletion(target, 90_000)
    if (!done) violations.push('workload did not finish within 90 s after the faults ended')
    const rows = await target.query<{ id: string; seq: string }>(
      `select a.id, a.payload->>'side' as seq from "${target.schema}".pgqrs_archive a
       join "${target.schema}".pgqrs_queues q on q.id = a.queue_id where q.name = $1`,
      [SIDE],
    )
    const archivedSeqs = new Map(rows.map((x) => [Number(x.seq), Number(x.id)]))
    side = { enqueued: sideOk.size, archived: 0, lost: 0, ambiguous: 0 }
    for (const [s, id] of sideOk) {
      if (archivedSeqs.get(s) === id) side.archived++
      else {
        side.lost++
        violations.push(`side-queue message ${id} (seq ${s}) acknowledged but never archived: LOST`)
      }
    }
    for (const [s, id] of txOk) {
      side.enqueued++
      if (archivedSeqs.get(s) === id) side.archived++
      else {
        side.lost++
        violations.push(
          `side-queue message ${id} (committed transaction, seq ${s}) never archived: LOST`,
        )
      }
    }
    for (const s of sideFailedSeqs) if (archivedSeqs.has(s)) side.ambiguous++
    for (const s of archivedSeqs.keys()) if (s < 0 && !txOk.has(s)) side.ambiguous++
    if (rows.length !== new Set(rows.map((x) => x.seq)).size)
      violations.push('a side-queue payload was stored twice (phantom duplicate)')

    violations.push(...(await pool.stopAll()))
    const check = await checkWorkload(target, pool, enqueued, { faulted: new Map(), strict: false })
    figures = addFigures(emptyFigures(), check.figures)
    violations.push(...check.violations)
    expect(violations).toEqual([])
    expect(figures.lost + side.lost).toBe(0)
    expect(figures.runsStuck).toBe(0)
    expect(Object.values(faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(3)
  })
})
