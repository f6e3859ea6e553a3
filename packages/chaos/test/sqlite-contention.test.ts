/**
 * SQLite and Turso contention: 4 processes open one fresh WAL file at the same moment, install,
 * then enqueue / dequeue / archive concurrently. No SQLITE_BUSY may escape to the caller, every
 * error must be typed, and the books must balance: successes + failures == attempts, the stored
 * rows are exactly the acknowledged enqueues (no phantom duplicates, no lost or phantom rows), no
 * message is leased twice, and every acknowledged archive is in the archive.
 */
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, inject, it } from 'vitest'
import type { ContentionReport, OpAccount } from '../src/children/contention.ts'
import { forkChild, stopChild } from '../src/fork.ts'
import { writeSection } from '../src/results.ts'
import { chaosSettings } from '../src/settings.ts'
import { trialDir } from '../src/workload.ts'

const settings = chaosSettings()
const tmpRoot = inject('tmpRoot')
const started = Date.now()
const PROCESSES = 4

interface BackendFigures {
  processes: number
  opsPerProcess: number
  ops: Record<string, Omit<OpAccount, 'errors'> & { errors: Record<string, number> }>
  busyEscaped: number
  untypedErrors: number
  enqueuedOk: number
  enqueuedFailed: number
  storedRows: number
  duplicates: number
  phantoms: number
  lostRows: number
  doubleLeases: number
  archivedOk: number
  archiveRows: number
  durationMs: number
}

const results: Record<string, BackendFigures> = {}
const violations: string[] = []

async function contend(backend: 'sqlite' | 'turso'): Promise<string[]> {
  const t0 = Date.now()
  const v: string[] = []
  const dir = trialDir(tmpRoot, `contention-${backend}`)
  const file = path.join(dir, 'contended.db')
  const queue = 'contend'
  const children = Array.from({ length: PROCESSES }, (_, i) =>
    forkChild<any>('contention', `${backend}-contender-${i}`, {
      dsn: `${backend}://${file}`,
      label: `p${i}`,
      ops: settings.contentionOps,
      queue,
    }),
  )
  await Promise.all(children.map((c) => c.waitFor((m) => m.t === 'ready', 30_000)))
  for (const c of children) c.send({ t: 'go' })
  const reports = (await Promise.all(
    children.map((c) => c.waitFor((m) => m.t === 'report', 180_000)),
  )) as ContentionReport[]
  await Promise.all(children.map((c) => stopChild(c, 5_000)))
  for (const c of children) {
    const crash = c.inbox.find((m) => m.message.t === 'crash')
    if (crash) v.push(`${c.name} CRASHED: ${JSON.stringify(crash.message.error)}`)
  }

  const db = new Database(file, { readonly: true })
  const rows = db
    .prepare(
      `select id, payload, null as archived_at, null as dead_at, 'active' as state from pgqrs_messages
       union all select id, payload, archived_at, dead_at, 'archive' from pgqrs_archive`,
    )
    .all() as {
    id: number
    payload: string
    archived_at: number | null
    dead_at: number | null
    state: string
  }[]
  db.close()

  const ops: BackendFigures['ops'] = {}
  let busy = 0
  let untyped = 0
  for (const r of reports) {
    for (const [name, a] of Object.entries(r.ops)) {
      ops[name] ??= { attempts: 0, ok: 0, failed: 0, busy: 0, untyped: 0, errors: {} }
      const acc = ops[name]
      acc.attempts += a.attempts
      acc.ok += a.ok
      acc.failed += a.failed
      acc.busy += a.busy
      acc.untyped += a.untyped
      for (const [k, n] of Object.entries(a.errors)) acc.errors[k] = (acc.errors[k] ?? 0) + n
      busy += a.busy
      untyped += a.untyped
      if (a.ok + a.failed !== a.attempts) v.push(`${r.label} ${name}: ok + failed != attempts`)
    }
    if (r.firstErrors.length > 0) v.push(`${r.label} saw errors: ${r.firstErrors.join(' | ')}`)
  }
  if (busy > 0) v.push(`${busy} SQLITE_BUSY error(s) escaped to the caller`)
  if (untyped > 0) v.push(`${untyped} untyped error(s)`)

  // Enqueues: the stored rows are exactly the acknowledged ones, each once.
  const stored = new Map<string, number>()
  for (const row of rows) {
    const p = JSON.parse(row.payload) as { w: string; seq: number }
    const k = `${p.w}:${p.seq}`
    stored.set(k, (stored.get(k) ?? 0) + 1)
  }
  const okKeys = new Set(reports.flatMap((r) => r.enqueuedOk.map((s) => `${r.label}:${s}`)))
  const failedKeys = new Set(reports.flatMap((r) => r.enqueuedFailed.map((s) => `${r.label}:${s}`)))
  let duplicates = 0
  let phantoms = 0
  let lostRows = 0
  for (const [k, n] of stored) {
    if (n > 1) {
      duplicates += n - 1
      v.push(`payload ${k} stored ${n} times (phantom duplicate)`)
    }
    if (!okKeys.has(k)) {
      phantoms++
      v.push(
        `payload ${k} stored although its enqueue ${failedKeys.has(k) ? 'failed' : 'never happened'}`,
      )
    }
  }
  for (const k of okKeys) {
    if (!stored.has(k)) {
      lostRows++
      v.push(`acknowledged enqueue ${k} is not stored: LOST`)
    }
  }

  // Leases: with a 120 s lease, no message may be granted twice.
  const leasedBy = new Map<number, string[]>()
  for (const r of reports)
    for (const [id] of r.leased) leasedBy.set(id, [...(leasedBy.get(id) ?? []), r.label])
  let doubleLeases = 0
  for (const [id, who] of leasedBy) {
    if (who.length > 1) {
      doubleLeases++
      v.push(`message ${id} leased ${who.length} times (${who.join(', ')}) within its lease`)
    }
  }

  // Archives: every acknowledged archive is archived; refused ones cannot happen here; failed ones
  // must not have been applied.
  const archivedIds = new Set(rows.filter((x) => x.archived_at !== null).map((x) => x.id))
  const activeIds = new Set(rows.filter((x) => x.state === 'active').map((x) => x.id))
  const okArchived = reports.flatMap((r) => r.archivedOk)
  for (const id of okArchived)
    if (!archivedIds.has(id)) v.push(`archive of ${id} acknowledged but not archived`)
  if (new Set(okArchived).size !== okArchived.length) v.push('a message was archived twice')
  for (const r of reports) {
    for (const id of r.archivedRefused)
      v.push(`${r.label}: archive of ${id} refused although its lease was current`)
    for (const id of r.archiveFailed)
      if (!activeIds.has(id)) v.push(`${r.label}: archive of ${id} failed but was applied`)
  }
  if (archivedIds.size !== okArchived.length)
    v.push(`${archivedIds.size} archived rows but ${okArchived.length} acknowledged archives`)

  results[backend] = {
    processes: PROCESSES,
    opsPerProcess: settings.contentionOps,
    ops,
    busyEscaped: busy,
    untypedErrors: untyped,
    enqueuedOk: okKeys.size,
    enqueuedFailed: failedKeys.size,
    storedRows: rows.length,
    duplicates,
    phantoms,
    lostRows,
    doubleLeases,
    archivedOk: okArchived.length,
    archiveRows: archivedIds.size,
    durationMs: Date.now() - t0,
  }
  return v
}

describe('SQLite-family contention (4 processes, one WAL file)', () => {
  afterAll(() => {
    writeSection({
      section: 'sqlite-contention',
      violations,
      durationMs: Date.now() - started,
      data: results,
    })
  })

  for (const backend of ['sqlite', 'turso'] as const) {
    it(`${backend}: no SQLITE_BUSY escapes, successes + failures == attempts == stored rows`, async () => {
      const v = await contend(backend)
      violations.push(...v.map((x) => `${backend}: ${x}`))
      expect(v).toEqual([])
      expect(results[backend]!.storedRows).toBe(results[backend]!.enqueuedOk)
    })
  }
})
