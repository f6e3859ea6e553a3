/**
 * Contention child: opens a fresh SQLite/Turso file together with 3 other processes (connect and
 * install at the same moment), then enqueues, dequeues and archives at random as fast as it can,
 * keeping an exact account of every attempt, success and failure (and whether a failure was a
 * SQLITE_BUSY that escaped to the caller).
 */
import { connect, PgqrsError, type QueueMessage, type Store } from '@pgqrs/core'
import { childArgs, errorInfo, reportCrashes, send, when } from './runtime.ts'

export interface ContentionArgs {
  readonly dsn: string
  readonly label: string
  readonly ops: number
  readonly queue: string
}

export interface OpAccount {
  attempts: number
  ok: number
  failed: number
  busy: number
  untyped: number
  errors: Record<string, number>
}

export interface ContentionReport {
  readonly t: 'report'
  readonly label: string
  readonly ops: Record<string, OpAccount>
  /** seq of every message whose enqueue succeeded / failed. */
  readonly enqueuedOk: number[]
  readonly enqueuedFailed: number[]
  /** `[id, lease]` of every message this process was granted. */
  readonly leased: [number, string][]
  /** ids whose archive returned true / false / threw. */
  readonly archivedOk: number[]
  readonly archivedRefused: number[]
  readonly archiveFailed: number[]
  readonly firstErrors: string[]
}

reportCrashes()
const args = childArgs<ContentionArgs>()
const ops: Record<string, OpAccount> = {}
const firstErrors: string[] = []

function isBusy(e: unknown): boolean {
  for (let x: any = e, depth = 0; x && depth < 5; x = x.cause, depth++) {
    const code = `${x.code ?? ''} ${x.rawCode ?? ''}`
    if (
      /SQLITE_BUSY|SQLITE_LOCKED/.test(code) ||
      /database is locked|SQLITE_BUSY/i.test(String(x.message))
    )
      return true
  }
  return false
}

async function account<T>(
  name: string,
  fn: () => Promise<T>,
): Promise<{ ok: true; v: T } | { ok: false }> {
  ops[name] ??= { attempts: 0, ok: 0, failed: 0, busy: 0, untyped: 0, errors: {} }
  const a = ops[name]
  a.attempts++
  try {
    const v = await fn()
    a.ok++
    return { ok: true, v }
  } catch (e) {
    a.failed++
    const info = errorInfo(e)
    const key = `${info.name}${info.code ? ` (${info.code})` : ''}`
    a.errors[key] = (a.errors[key] ?? 0) + 1
    if (isBusy(e)) a.busy++
    if (!PgqrsError.is(e)) a.untyped++
    if (firstErrors.length < 5) firstErrors.push(`${name}: ${info.name}: ${info.message}`)
    return { ok: false }
  }
}

await send({ t: 'ready', pid: process.pid })
await when('go')

// Open and install together with the other processes; a failure is accounted and retried.
let store: Store | null = null
for (let i = 0; !store && i < 50; i++) {
  const r = await account('connect', () => connect(args.dsn, { logger: false }))
  if (r.ok) store = r.v
}
if (!store) throw new Error('could not connect after 50 attempts')
for (let i = 0; i < 50; i++) {
  if ((await account('install', () => store!.migrate())).ok) break
}
for (let i = 0; i < 50; i++) {
  if ((await account('ensure queue', () => store!.queue(args.queue))).ok) break
}

const enqueuedOk: number[] = []
const enqueuedFailed: number[] = []
const leased: [number, string][] = []
const archivedOk: number[] = []
const archivedRefused: number[] = []
const archiveFailed: number[] = []
let held: QueueMessage[] = []
let seq = 0

async function archive(msgs: QueueMessage[]): Promise<void> {
  if (msgs.length === 0) return
  const r = await account('archive', () => store!.messages.archive(msgs))
  if (r.ok) {
    msgs.forEach((m, i) => {
      ;(r.v[i] ? archivedOk : archivedRefused).push(m.id)
    })
  } else archiveFailed.push(...msgs.map((m) => m.id))
}

for (let i = 0; i < args.ops; i++) {
  const x = Math.random()
  if (x < 0.45) {
    const n = 1 + Math.floor(Math.random() * 5)
    const seqs = Array.from({ length: n }, () => seq++)
    const r = await account('enqueue', () =>
      store!.messages.enqueue(
        args.queue,
        seqs.map((s) => ({ payload: { w: args.label, seq: s } })),
      ),
    )
    ;(r.ok ? enqueuedOk : enqueuedFailed).push(...seqs)
  } else if (x < 0.8) {
    const r = await account('dequeue', () =>
      store!.messages.dequeue(args.queue, {
        batchSize: 1 + Math.floor(Math.random() * 5),
        leaseMs: 120_000,
      }),
    )
    if (r.ok) {
      for (const m of r.v) leased.push([m.id, m.lease ?? ''])
      // archive half now, keep the rest for later (so archives interleave with everything else)
      const now = r.v.filter(() => Math.random() < 0.5)
      held.push(...r.v.filter((m) => !now.includes(m)))
      await archive(now)
    }
  } else {
    const batch = held
    held = []
    await archive(batch)
  }
}
await archive(held)
await store.close()
const report: ContentionReport = {
  t: 'report',
  label: args.label,
  ops,
  enqueuedOk,
  enqueuedFailed,
  leased,
  archivedOk,
  archivedRefused,
  archiveFailed,
  firstErrors,
}
await send(report)
process.exit(0)
