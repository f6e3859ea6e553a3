/**
 * Silence: every connection between the workers and PostgreSQL stops answering at once and is
 * never reset (a peer that vanished without FIN or RST: a cut cable, a dead NAT entry). The TCP
 * proxy (src/proxy.ts) swallows every byte either way on the connections open at that moment;
 * new connections pass. pgqrs must notice on its own: a statement with no answer fails after the
 * statement timeout (+0.5 s) and its connection is closed, the worker loops reconnect, the leases
 * held over the silent connections run out and are claimed again. So within `leaseMs` + the
 * statement timeout (plus the backoff slack below) every worker settles messages again and every
 * message that was leased when the silence began is settled or leased anew; nothing is lost, and
 * `stop()` does not hang on a silent connection.
 */
import { afterAll, describe, expect, inject, it } from 'vitest'
import { addFigures, type Enqueued, emptyFigures, type Figures } from '../src/invariants.ts'
import type { FromWorker } from '../src/protocol.ts'
import { FaultProxy } from '../src/proxy.ts'
import { writeSection } from '../src/results.ts'
import { chaosSettings } from '../src/settings.ts'
import { postgresTarget, type Target } from '../src/target.ts'
import {
  checkWorkload,
  enqueueWorkload,
  trialDir,
  WorkerPool,
  waitForCompletion,
} from '../src/workload.ts'

const settings = chaosSettings()
const pgUrl = inject('pgUrl')
const tmpRoot = inject('tmpRoot')
const started = Date.now()

const LEASE_MS = 1_000
const STATEMENT_TIMEOUT_MS = 2_000
const MAX_ERROR_BACKOFF_MS = 800
/**
 * What the bound allows on top of `leaseMs` + the statement timeout: the 0.5 s the connection
 * guard waits past the statement timeout, one error backoff, one poll, and scheduling slack on a
 * shared 2-core machine.
 */
const SLACK_MS = 500 + MAX_ERROR_BACKOFF_MS + 1_700
const BOUND_MS = LEASE_MS + STATEMENT_TIMEOUT_MS + SLACK_MS

interface Round {
  silenced: number
  leasedAtSilence: number
  /** ms from the silence until each worker process settled a message again. */
  workersRecoveredMs: number[]
  /** ms until every message leased at the silence was settled or leased anew. */
  leasesTakenOverMs: number
}

describe.skipIf(!pgUrl)('silence (connections stop answering, never reset)', () => {
  let target: Target | null = null
  let proxy: FaultProxy | null = null
  let pool: WorkerPool | null = null
  const violations: string[] = []
  const rounds: Round[] = []
  let figures: Figures = emptyFigures()
  let stopMs = 0

  afterAll(async () => {
    pool?.killAll()
    await proxy?.close().catch(() => {})
    await target?.close().catch(() => {})
    writeSection({
      section: 'silence',
      violations,
      durationMs: Date.now() - started,
      data: {
        rounds,
        figures,
        stopMs,
        boundMs: BOUND_MS,
        leaseMs: LEASE_MS,
        statementTimeoutMs: STATEMENT_TIMEOUT_MS,
        proxy: proxy?.stats ?? null,
      },
    })
  })

  it('workers recover within leaseMs + the statement timeout, nothing is lost, stop() returns', async () => {
    const u = new URL(pgUrl)
    target = await postgresTarget(pgUrl, `chaos_silence_${process.pid}`)
    await target.install()
    proxy = new FaultProxy({ host: u.hostname, port: Number(u.port || 5432) })
    const proxied = new URL(pgUrl)
    proxied.hostname = '127.0.0.1'
    proxied.port = String(await proxy.listen())
    const roundsToRun = settings.mode === 'full' ? 3 : 1
    const enqueued: Enqueued = { messages: [], runs: new Map() }
    /** Each round gets its own work, so that every worker has something to settle after the silence. */
    const enqueueRound = async (round: number) => {
      const more = await enqueueWorkload(
        target!,
        { messages: 300, runs: 20, slowEvery: 10 },
        round * 1_000,
      )
      enqueued.messages.push(...more.messages)
      for (const [run, message] of more.runs) enqueued.runs.set(run, message)
    }
    pool = new WorkerPool({
      target,
      dsn: proxied.toString(),
      logDir: trialDir(tmpRoot, 'silence'),
      namePrefix: 'silence',
      leaseMs: LEASE_MS,
      workMs: [20, 60],
      slowMs: [300, 600],
      maxErrorBackoffMs: MAX_ERROR_BACKOFF_MS,
      connectTimeoutMs: 1_500,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    })
    pool.supervise = false // a worker that crashed is a finding here, not something to replace
    const children = await Promise.all([pool.spawn(), pool.spawn(), pool.spawn()])
    const settledOkAfter = (c: (typeof children)[number], t: number) =>
      c.inbox.find(
        ({ at, message: m }) =>
          at > t &&
          m.t === 'settled' &&
          (m as Extract<FromWorker, { t: 'settled' }>).results.some(([, , ok]) => ok),
      )?.at
    const leasedNow = async () =>
      new Map(
        (
          await target!.query<{ id: string; lease: string }>(
            `select id, lease::text as lease from "${target!.schema}".pgqrs_messages
             where lease is not null and visible_at > now()`,
          )
        ).map((r) => [Number(r.id), r.lease]),
      )

    for (let round = 0; round < roundsToRun; round++) {
      await enqueueRound(round)
      // every worker is busy through the proxy before the silence
      const warm = Date.now()
      for (const c of children)
        await c.waitFor(
          (m) => m.t === 'settled' && m.results.some(([, , ok]) => ok) && Date.now() > warm,
          30_000,
        )
      const held = await leasedNow()
      const t0 = Date.now()
      const silenced = proxy.silenceAll()
      // The workers' first settle after the silence must have gone over a new connection; a
      // reply already on its way when the silence began can arrive a few ms later, so count from
      // a little after.
      const after = t0 + 50
      const deadline = t0 + BOUND_MS * 3
      let leasesTakenOverMs = -1
      for (;;) {
        if (leasesTakenOverMs < 0) {
          const now = await leasedNow()
          const remaining = await target.query<{ id: string }>(
            `select id from "${target.schema}".pgqrs_messages where id = any($1::bigint[])`,
            [[...held.keys()]],
          )
          const still = remaining.filter((r) => now.get(Number(r.id)) === held.get(Number(r.id)))
          if (still.length === 0) leasesTakenOverMs = Date.now() - t0
        }
        const recovered = children.map((c) => settledOkAfter(c, after))
        if (leasesTakenOverMs >= 0 && recovered.every((x) => x !== undefined)) break
        if (Date.now() > deadline) break
        await new Promise((res) => setTimeout(res, 50))
      }
      const workersRecoveredMs = children.map((c) => {
        const at = settledOkAfter(c, after)
        return at === undefined ? -1 : at - t0
      })
      rounds.push({
        silenced,
        leasedAtSilence: held.size,
        workersRecoveredMs,
        leasesTakenOverMs,
      })
      workersRecoveredMs.forEach((ms, i) => {
        if (ms < 0 || ms > BOUND_MS)
          violations.push(
            `round ${round}: worker ${children[i]!.name} settled nothing for ${ms < 0 ? `more than ${BOUND_MS * 3}` : ms} ms after the silence (bound ${BOUND_MS} ms)`,
          )
      })
      if (leasesTakenOverMs < 0 || leasesTakenOverMs > BOUND_MS)
        violations.push(
          `round ${round}: the ${held.size} messages leased at the silence were not all settled or leased anew within ${BOUND_MS} ms (${leasesTakenOverMs < 0 ? 'never' : `${leasesTakenOverMs} ms`})`,
        )
    }
    // the silent connections are still open (the proxy never resets them): stop must not wait on them
    const done = await waitForCompletion(target, 90_000)
    if (!done) violations.push('workload did not finish within 90 s after the silence')
    const t = Date.now()
    violations.push(...(await pool.stopAll()))
    stopMs = Date.now() - t
    for (const c of children)
      if (c.inbox.some(({ message: m }) => m.t === 'crash'))
        violations.push(`${c.name} crashed (see its IPC messages)`)
    const check = await checkWorkload(target, pool, enqueued, { faulted: new Map(), strict: false })
    figures = addFigures(emptyFigures(), check.figures)
    violations.push(...check.violations)
    expect(violations).toEqual([])
    expect(rounds.length).toBe(roundsToRun)
    expect(rounds.every((r) => r.silenced > 0)).toBe(true)
    expect(figures.lost).toBe(0)
    expect(figures.runsStuck).toBe(0)
  })
})
