/**
 * The invariants checked after every fault: from the database's final state, the children's
 * append-only logs and what the children reported over IPC (the leases they were granted, the steps
 * they finished, the errors they saw).
 *
 * - nothing lost: every enqueued id is archived or dead exactly once, none is left active;
 * - fencing: a message is archived under the newest lease granted for it; a step's stored result
 *   comes from the newest lease that executed it; a step reported finished is never redone;
 * - re-execution only where allowed: a message handled (or a step executed) under a lease other
 *   than the final one must have had a holder that died (SIGKILL) or stalled past its lease
 *   (SIGSTOP) — or, in the store-fault tests, a holder that saw its settle fail;
 * - every run terminal (SUCCESS), its steps a, b, c SUCCESS, exactly one `chaos_tx` row per run
 *   written under the same lease as step b's result;
 * - no untyped error and no crash in any child.
 *
 * A settle that threw has an unknown outcome, not a failed one: it may have committed before the
 * connection was lost. Each check uses only what is certain, except where an unknown outcome can
 * only excuse its own holder (a release or fail of its own lease, before an early re-grant).
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ChildHandle } from './fork.ts'
import type { ErrorInfo, FromWorker } from './protocol.ts'
import type { Snapshot } from './target.ts'

export interface Grant {
  readonly id: number
  readonly lease: string
  readonly pid: number
  readonly grantedAt: number
  readonly expiresAt: number
}

export interface Evidence {
  /** Lease token → grant, from every child's `leased` reports (the first grant of a token). */
  readonly grants: Map<string, Grant>
  /** Every grant reported, in order of arrival. */
  readonly allGrants: Grant[]
  /** `runId step lease` of every step a child reported finished. */
  readonly stepsDone: { runId: number; step: string; lease: string | null; pid: number }[]
  /** `pid:id` of deliveries whose settle (archive/fail/release) threw. */
  readonly settleTrouble: Set<string>
  /**
   * Every archive/release/delete/fail that threw: its outcome is unknown (the connection may have
   * been lost after the COMMIT was sent), so it may have applied.
   */
  readonly unknownSettles: { pid: number; op: string; id: number; lease: string | null }[]
  /** `pid:id` of deliveries whose holder noticed that its lease was lost (its renewal or settle was refused). */
  readonly leaseLostBy: Set<string>
  /** Every archive/release/delete/fail a child made, with whether it applied. */
  readonly settles: {
    pid: number
    op: string
    id: number
    lease: string | null
    applied: boolean
  }[]
  /** Lease losses the children's workers reported (a stale hand noticing it was fenced). */
  readonly leaseLost: number
  readonly workerErrors: { pid: number; error: ErrorInfo }[]
  readonly crashes: { pid: number; error: ErrorInfo }[]
}

/** Collects what the worker children reported. */
export function collectEvidence(children: readonly ChildHandle<FromWorker>[]): Evidence {
  const grants = new Map<string, Grant>()
  const allGrants: Grant[] = []
  const stepsDone: Evidence['stepsDone'] = []
  const settleTrouble = new Set<string>()
  const unknownSettles: Evidence['unknownSettles'] = []
  const leaseLostBy = new Set<string>()
  const settles: Evidence['settles'] = []
  let leaseLost = 0
  const workerErrors: Evidence['workerErrors'] = []
  const crashes: Evidence['crashes'] = []
  for (const c of children) {
    for (const { message: m } of c.inbox) {
      if (m.t === 'leased') {
        for (const [id, lease, grantedAt, expiresAt] of m.grants) {
          const g = { id, lease, pid: c.pid, grantedAt, expiresAt }
          allGrants.push(g)
          if (!grants.has(lease)) grants.set(lease, g)
        }
      } else if (m.t === 'step-done') {
        stepsDone.push({ runId: m.runId, step: m.step, lease: m.lease, pid: c.pid })
      } else if (m.t === 'settle-unknown') {
        for (const [id, lease] of m.refs) {
          settleTrouble.add(`${c.pid}:${id}`)
          unknownSettles.push({ pid: c.pid, op: m.op, id, lease })
        }
      } else if (m.t === 'settled') {
        for (const [id, lease, applied] of m.results)
          settles.push({ pid: c.pid, op: m.op, id, lease, applied })
      } else if (m.t === 'lease-lost') {
        leaseLost++
        leaseLostBy.add(`${c.pid}:${m.id}`)
      } else if (m.t === 'worker-error') {
        workerErrors.push({ pid: c.pid, error: m.error })
      } else if (m.t === 'crash') {
        crashes.push({ pid: c.pid, error: m.error })
      }
    }
  }
  return {
    grants,
    allGrants,
    stepsDone,
    settleTrouble,
    unknownSettles,
    leaseLostBy,
    settles,
    leaseLost,
    workerErrors,
    crashes,
  }
}

export interface HandledLine {
  readonly id: number
  readonly pid: number
  readonly lease: string
}
export interface StepLine {
  readonly runId: number
  readonly step: string
  readonly pid: number
  readonly lease: string
}

/** Reads `handled.log` and `steps.log` of a trial. */
export function readLogs(dir: string): { handled: HandledLine[]; steps: StepLine[] } {
  const lines = (f: string) => {
    const p = path.join(dir, f)
    return fs.existsSync(p)
      ? fs
          .readFileSync(p, 'utf8')
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => l.split(' '))
      : []
  }
  return {
    handled: lines('handled.log').map(([id, pid, lease]) => ({
      id: Number(id),
      pid: Number(pid),
      lease: lease!,
    })),
    steps: lines('steps.log').map(([runId, step, pid, lease]) => ({
      runId: Number(runId),
      step: step!,
      pid: Number(pid),
      lease: lease!,
    })),
  }
}

export interface Enqueued {
  /** Ids of plain queue messages. */
  readonly messages: number[]
  /** Run id → its message id. */
  readonly runs: Map<number, number>
}

export interface CheckOptions {
  /** pid → what was done to it. */
  readonly faulted: ReadonlyMap<number, 'killed' | 'paused' | 'stalled' | 'crashed'>
  /**
   * Strict (kill and pause trials): a re-execution is allowed only where the holder was faulted.
   * Lenient (database restarts, connection faults): also where the holder's settle failed or its
   * lease was lost (a store error), and steps may be re-executed after a failed delivery.
   */
  readonly strict: boolean
  /** Steps every run must have completed. */
  readonly steps?: readonly string[]
}

export interface Figures {
  enqueued: number
  queueMessages: number
  runs: number
  lost: number
  leftActive: number
  dead: number
  handledTwice: number
  /** Why each extra handling was allowed. */
  handledTwiceWhy: Record<string, number>
  stepsReexecuted: number
  stepsReexecutedWhy: Record<string, number>
  runsStuck: number
  runsFailed: number
  txRowsWrong: number
  staleWrites: number
  /** Settles refused because the lease had been taken over, and lease losses noticed: fencing at work. */
  staleSettlesRefused: number
  leaseLossesNoticed: number
  /** Leases granted again after the previous one (the redelivery of a crashed or stalled holder's message). */
  leasesTakenOver: number
  /**
   * Leases granted again before the previous one ran out, after its holder's release or fail
   * threw: the give-back committed although its reply was lost (outcome unknown, counted as applied).
   */
  regrantsAfterUnknownGiveBack: number
  workerErrorsTyped: number
  workerErrorsUntyped: number
  crashes: number
}

export interface CheckResult {
  readonly figures: Figures
  readonly violations: string[]
}

const bump = (o: Record<string, number>, k: string) => {
  o[k] = (o[k] ?? 0) + 1
}

export function checkInvariants(
  snap: Snapshot,
  enqueued: Enqueued,
  logs: { handled: HandledLine[]; steps: StepLine[] },
  ev: Evidence,
  opts: CheckOptions,
): CheckResult {
  const v: string[] = []
  const stepNames = opts.steps ?? ['a', 'b', 'c']
  const allIds = [...enqueued.messages, ...enqueued.runs.values()]
  const f: Figures = {
    ...emptyFigures(),
    enqueued: allIds.length,
    queueMessages: enqueued.messages.length,
    runs: enqueued.runs.size,
    staleSettlesRefused: ev.settles.filter((x) => !x.applied).length,
    leaseLossesNoticed: ev.leaseLost,
    workerErrorsTyped: ev.workerErrors.filter((e) => e.error.typed).length,
    workerErrorsUntyped: ev.workerErrors.filter((e) => !e.error.typed).length,
    crashes: ev.crashes.length,
  }

  // 1. Every enqueued message archived or dead exactly once; none active; none missing.
  const archive = new Map(snap.archive.map((a) => [a.id, a]))
  const active = new Map(snap.active.map((a) => [a.id, a]))
  if (archive.size !== snap.archive.length) v.push('duplicate ids in the archive')
  for (const id of allIds) {
    const a = archive.get(id)
    if (active.has(id) && a) v.push(`message ${id} is both active and archived`)
    if (active.has(id)) {
      f.leftActive++
      const row = active.get(id)!
      v.push(
        `message ${id} still active (lease ${row.lease ?? 'none'}, visible ${new Date(row.visibleAtMs).toISOString()})`,
      )
    } else if (!a) {
      f.lost++
      v.push(`message ${id} LOST: neither active, archived nor dead`)
    } else if (a.dead) {
      f.dead++
    }
  }
  if (f.dead > 0) v.push(`${f.dead} message(s) dead-lettered although no handler ever failed`)

  // A lease token is issued once: a redelivery that kept the old token would let the stale holder settle.
  const tokenUses = new Map<string, number>()
  for (const g of ev.allGrants)
    tokenUses.set(`${g.id} ${g.lease}`, (tokenUses.get(`${g.id} ${g.lease}`) ?? 0) + 1)
  for (const [k, n] of tokenUses) {
    if (n > 1) {
      f.staleWrites++
      v.push(`LEASE TOKEN REISSUED: message/token ${k} was granted ${n} times`)
    }
  }
  const grantsOf = new Map<number, Grant[]>()
  for (const g of ev.allGrants) {
    const list = grantsOf.get(g.id) ?? []
    list.push(g)
    grantsOf.set(g.id, list)
  }
  for (const list of grantsOf.values()) list.sort((x, y) => x.grantedAt - y.grantedAt)
  const holder = (lease: string, fallbackPid: number) => ev.grants.get(lease)?.pid ?? fallbackPid
  /** Why a delivery under `lease` for message `id` by `pid` may have been superseded, or null. */
  const excuse = (pid: number, id: number): string | null => {
    const fault = opts.faulted.get(pid)
    if (fault === 'killed') return 'holder was SIGKILLed'
    if (fault === 'paused') return 'holder was paused past its lease'
    if (fault === 'stalled') return "holder's store calls stalled past its lease"
    if (fault === 'crashed') return 'holder CRASHED (reported as a violation)'
    if (!opts.strict && ev.settleTrouble.has(`${pid}:${id}`))
      return 'holder could not settle (store fault)'
    // The takeover itself happened after the lease expired (checked as LEASED TWICE), and the holder
    // noticed: its process was alive but too slow to renew (an event-loop stall, or a store fault).
    if (ev.leaseLostBy.has(`${pid}:${id}`))
      return opts.strict
        ? 'holder alive but its lease lapsed (renewal too late), and it noticed'
        : 'holder lost its lease (store fault) and noticed'
    return null
  }

  // Nothing is leased twice at once: a message is granted again only after the previous lease
  // expired (renewals only push the expiry later) — unless its holder gave it back (release / fail).
  // A give-back that threw may have committed all the same (the connection was lost between its
  // COMMIT and the reply): its outcome is unknown, so it counts as possibly applied — for the
  // holder's own lease only. Only a give-back of that exact lease token excuses an early grant:
  // an archive or delete never does, nor does a give-back of any other lease.
  const giveBack = (x: { op: string }) => x.op === 'release' || x.op === 'fail'
  const gaveBack = new Set(
    ev.settles.filter((x) => x.applied && giveBack(x)).map((x) => `${x.id} ${x.lease}`),
  )
  const mayHaveGivenBack = new Set(
    ev.unknownSettles.filter(giveBack).map((x) => `${x.id} ${x.lease}`),
  )
  for (const [id, list] of grantsOf) {
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!
      const cur = list[i]!
      f.leasesTakenOver++
      const key = `${id} ${prev.lease}`
      if (cur.grantedAt >= prev.expiresAt - 5 || gaveBack.has(key)) continue
      if (mayHaveGivenBack.has(key)) {
        f.regrantsAfterUnknownGiveBack++
        continue
      }
      f.staleWrites++
      v.push(
        `LEASED TWICE: message ${id} granted to pid ${cur.pid} at ${cur.grantedAt} while pid ${prev.pid}'s lease ran until ${prev.expiresAt}`,
      )
    }
  }

  // An archive or delete that applied must have presented the newest lease of its message: once a
  // newer lease exists the old holder is fenced, and after the archive no newer lease can exist.
  // (The archive row keeps the row's current lease, so a stale archive is invisible in the table.)
  // Release and fail leave the message active, so newer leases after them are normal.
  for (const st of ev.settles) {
    if (!st.applied || (st.op !== 'archive' && st.op !== 'delete')) continue
    const newest = grantsOf.get(st.id)?.at(-1)
    if (newest && st.lease !== newest.lease) {
      f.staleWrites++
      v.push(
        `STALE ${st.op.toUpperCase()} ACCEPTED: pid ${st.pid} settled message ${st.id} under lease ${st.lease} after newer lease ${newest.lease} was granted to pid ${newest.pid}`,
      )
    }
  }

  // 2. Queue messages: handled under other leases only where the holder died or stalled; archived
  //    under the newest lease (a stale holder's archive must be refused).
  const handledBy = new Map<number, HandledLine[]>()
  for (const l of logs.handled) {
    const list = handledBy.get(l.id) ?? []
    list.push(l)
    handledBy.set(l.id, list)
  }
  for (const id of enqueued.messages) {
    const lines = handledBy.get(id) ?? []
    const a = archive.get(id)
    if (!a || a.dead) continue
    if (!lines.some((l) => l.lease === a.lease)) {
      v.push(`message ${id} archived under lease ${a.lease} although no handler ran under it`)
    }
    const newest = grantsOf.get(id)?.at(-1)
    if (newest && a.lease !== newest.lease) {
      f.staleWrites++
      v.push(
        `STALE ARCHIVE: message ${id} archived under lease ${a.lease} after a newer lease ${newest.lease} was granted (pid ${newest.pid})`,
      )
    }
    const extra = lines.filter((l) => l.lease !== a.lease)
    if (extra.length > 0) f.handledTwice++
    for (const l of extra) {
      if (!ev.grants.has(l.lease)) {
        v.push(`message ${id} handled under lease ${l.lease} that no child reported`)
        continue
      }
      const pid = holder(l.lease, l.pid)
      const why = excuse(pid, id)
      if (why) bump(f.handledTwiceWhy, why)
      else
        v.push(
          `message ${id} handled twice: under lease ${l.lease} by pid ${pid}, which was neither killed nor paused${opts.strict ? '' : ' nor hit by a store fault'}, then archived under ${a.lease}`,
        )
    }
  }

  // 3. Runs, steps and the transactional step's rows.
  const runs = new Map(snap.runs.map((r) => [r.id, r]))
  const stepRows = new Map(snap.steps.map((s) => [`${s.runId} ${s.stepKey}`, s]))
  const stepLines = new Map<string, StepLine[]>()
  for (const l of logs.steps) {
    const k = `${l.runId} ${l.step}`
    const list = stepLines.get(k) ?? []
    list.push(l)
    stepLines.set(k, list)
  }
  const txByRun = new Map<number, typeof snap.tx>()
  for (const t of snap.tx) {
    const list = txByRun.get(t.runId) ?? []
    list.push(t)
    txByRun.set(t.runId, list)
  }
  for (const [runId, messageId] of enqueued.runs) {
    const r = runs.get(runId)
    if (!r) {
      f.runsStuck++
      v.push(`run ${runId} missing`)
      continue
    }
    if (!['SUCCESS', 'ERROR', 'CANCELLED'].includes(r.status)) {
      f.runsStuck++
      v.push(`run ${runId} STUCK in ${r.status}`)
      continue
    }
    if (r.status !== 'SUCCESS') {
      f.runsFailed++
      const err = r.error
        ? ` (${r.error.name ?? 'error'}: ${String(r.error.message ?? '').slice(0, 200)})`
        : ''
      v.push(`run ${runId} ended ${r.status} although no step failed${err}`)
      continue
    }
    const a = archive.get(messageId)
    if (a && r.output?.lease !== undefined && a.lease !== r.output.lease) {
      f.staleWrites++
      v.push(
        `run ${runId} completed under lease ${r.output.lease} but its message was archived under ${a.lease}`,
      )
    }
    for (const step of stepNames) {
      const k = `${runId} ${step}`
      const row = stepRows.get(k)
      if (row?.status !== 'SUCCESS') {
        v.push(`run ${runId}: step ${step} is ${row?.status ?? 'missing'} in a SUCCESS run`)
        continue
      }
      const stored: string | undefined = row.output?.lease
      const lines = stepLines.get(k) ?? []
      if (!lines.some((l) => l.lease === stored))
        v.push(`run ${runId}: step ${step} stored under lease ${stored}, which never executed it`)
      const storedGrant = stored ? ev.grants.get(stored) : undefined
      for (const l of lines) {
        if (l.lease === stored) continue
        const g = ev.grants.get(l.lease)
        if (storedGrant && g && g.grantedAt > storedGrant.grantedAt) {
          f.staleWrites++
          v.push(
            `STALE STEP WRITE: run ${runId} step ${step} stored the result of lease ${stored} although newer lease ${l.lease} (pid ${g.pid}) had already started executing it`,
          )
        }
      }
      const extra = lines.filter((l) => l.lease !== stored)
      if (extra.length > 0) f.stepsReexecuted += extra.length
      for (const l of extra) {
        const pid = holder(l.lease, l.pid)
        const why = excuse(pid, messageId)
        if (why) bump(f.stepsReexecutedWhy, why)
        else if (!opts.strict) bump(f.stepsReexecutedWhy, 'delivery failed on a store fault')
        else
          v.push(
            `run ${runId}: step ${step} executed under lease ${l.lease} by live pid ${pid} and again under ${stored}`,
          )
      }
    }
    const rows = txByRun.get(runId) ?? []
    if (rows.length !== 1) {
      f.txRowsWrong++
      v.push(
        `run ${runId}: ${rows.length} chaos_tx rows (transactional step must commit exactly once)`,
      )
    } else if (
      stepNames.includes('b') &&
      rows[0]!.lease !== stepRows.get(`${runId} b`)?.output?.lease
    ) {
      f.txRowsWrong++
      v.push(`run ${runId}: chaos_tx row written under a different lease than step b's result`)
    }
  }
  // A step reported finished is final: its stored result is the one that was reported.
  for (const d of ev.stepsDone) {
    const row = stepRows.get(`${d.runId} ${d.step}`)
    if (row && row.output?.lease !== d.lease) {
      f.staleWrites++
      v.push(
        `COMPLETED STEP REDONE: run ${d.runId} step ${d.step} was finished under lease ${d.lease} (pid ${d.pid}) but stores ${row.output?.lease}`,
      )
    }
  }

  // 4. Children: typed errors only, no crash.
  for (const e of ev.workerErrors) {
    if (!e.error.typed)
      v.push(
        `untyped error in pid ${e.pid}: ${e.error.name}: ${e.error.message}\n${e.error.stack ?? ''}`,
      )
  }
  for (const c of ev.crashes)
    v.push(`pid ${c.pid} CRASHED: ${c.error.name}: ${c.error.message}\n${c.error.stack ?? ''}`)
  return { figures: f, violations: v }
}

/** Adds `b` into `a` (numbers and per-reason counters). */
export function addFigures(a: Figures, b: Figures): Figures {
  const out: any = { ...a }
  for (const [k, val] of Object.entries(b)) {
    if (typeof val === 'number') out[k] = (out[k] ?? 0) + val
    else {
      const acc: Record<string, number> = { ...(out[k] ?? {}) }
      for (const [r, n] of Object.entries(val as Record<string, number>)) acc[r] = (acc[r] ?? 0) + n
      out[k] = acc
    }
  }
  return out
}

export function emptyFigures(): Figures {
  return {
    enqueued: 0,
    queueMessages: 0,
    runs: 0,
    lost: 0,
    leftActive: 0,
    dead: 0,
    handledTwice: 0,
    handledTwiceWhy: {},
    stepsReexecuted: 0,
    stepsReexecutedWhy: {},
    runsStuck: 0,
    runsFailed: 0,
    txRowsWrong: 0,
    staleWrites: 0,
    staleSettlesRefused: 0,
    leaseLossesNoticed: 0,
    leasesTakenOver: 0,
    regrantsAfterUnknownGiveBack: 0,
    workerErrorsTyped: 0,
    workerErrorsUntyped: 0,
    crashes: 0,
  }
}
