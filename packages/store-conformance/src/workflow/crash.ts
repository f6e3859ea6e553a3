import { type ChildProcess, fork } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { admin } from '@pgqrs/queue'
import { defineWorkflow } from '@pgqrs/workflow'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { childConfig } from '../fork-child.js'
import type { StoreHarness } from '../harness.js'
import { uniqueName, useStore } from '../util.js'
import type { CrashChildArgs, CrashChildMessage, CrashInput } from './children/protocol.js'
import { getRun, mustNotRun, stepSummary, waitForArchived, waitForRun } from './helpers.js'
import { createNotesTable, kyselyPlace, notesOf } from './kysely-helpers.js'

const LEASE_MS = 1_000

/** A forked crash child. */
interface CrashChild {
  readonly process: ChildProcess
  /** Resolves with the next message of `type`; an `error` message or an early exit rejects. */
  next<T extends CrashChildMessage['type']>(
    type: T,
    timeoutMs?: number,
  ): Promise<Extract<CrashChildMessage, { type: T }>>
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** SIGKILLs the process if it still runs. */
  kill(): void
}

function childScript(): string {
  const path = fileURLToPath(new URL('./children/crash-worker.js', import.meta.url))
  if (existsSync(path)) return path
  const built = path.replace(/[/\\]src[/\\]workflow[/\\]/, '/dist/workflow/')
  if (existsSync(built)) return built
  throw new Error(`store-conformance: ${path} is missing; build the package first`)
}

function forkCrashChild(args: CrashChildArgs): CrashChild {
  const child = fork(
    childScript(),
    [JSON.stringify({ ...args, config: childConfig(args.config) })],
    {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  const inbox: CrashChildMessage[] = []
  const waiters = new Set<() => void>()
  let ended = false
  child.on('message', (m: CrashChildMessage) => {
    inbox.push(m)
    for (const w of waiters) w()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      ended = true
      for (const w of waiters) w()
      resolve({ code, signal })
    })
  })
  const next: CrashChild['next'] = (type, timeoutMs = 20_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`crash child: no '${type}' within ${timeoutMs} ms`))
      }, timeoutMs)
      function check() {
        const err = inbox.find((m) => m.type === 'error')
        const i = inbox.findIndex((m) => m.type === type)
        if (err && err.type === 'error') {
          clearTimeout(timer)
          waiters.delete(check)
          reject(new Error(`crash child failed: ${err.message}\n${err.stack ?? ''}`))
        } else if (i >= 0) {
          clearTimeout(timer)
          waiters.delete(check)
          resolve(inbox.splice(i, 1)[0] as never)
        } else if (ended) {
          clearTimeout(timer)
          waiters.delete(check)
          reject(new Error(`crash child exited before '${type}'`))
        }
      }
      waiters.add(check)
      check()
    })
  return {
    process: child,
    next,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
  }
}

/** Resolves with the exit of `child`, or rejects after `timeoutMs`. */
function exitWithin(child: CrashChild, timeoutMs: number) {
  return Promise.race([
    child.exited,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`child did not exit within ${timeoutMs} ms`)), timeoutMs),
    ),
  ])
}

/** The lines of the step log, as `[what, pid]`. */
function lines(file: string): [string, number][] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [what, pid] = l.split(' ')
      return [what!, Number(pid)]
    })
}

/**
 * Crash tests with real processes (Postgres and SQLite only): a worker child SIGKILLed in the
 * middle of a run; a new worker finishes it after the lease runs out, replaying the completed
 * steps and running the interrupted one again. A transactional step's row exists exactly once
 * even when the kill lands inside the step, before its commit.
 */
export function crashTests(harness: StoreHarness): void {
  describe('crash recovery (real processes, SIGKILL)', () => {
    const fx = useStore(harness)
    const children: CrashChild[] = []
    let dir = ''
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'pgqrs-wf-crash-'))
    })
    afterEach(async () => {
      const left = children.splice(0)
      for (const c of left) c.kill()
      await Promise.all(left.map((c) => c.exited))
    })
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    function spawn(args: Omit<CrashChildArgs, 'dsn' | 'config' | 'leaseMs' | 'pollIntervalMs'>) {
      const conn = harness.connection(fx.store)
      const child = forkCrashChild({
        ...args,
        ...conn,
        leaseMs: LEASE_MS,
        pollIntervalMs: 50,
      })
      children.push(child)
      return child
    }

    /** Starts a second child, waits for the run to succeed, stops the child; returns the output. */
    async function finishWithNewWorker(
      args: Omit<CrashChildArgs, 'dsn' | 'config' | 'leaseMs' | 'pollIntervalMs' | 'crash'>,
      runId: number,
    ) {
      const child = spawn({ ...args, crash: false })
      const started = await child.next('started')
      const done = await waitForRun(fx.store, runId, ['SUCCESS', 'ERROR', 'CANCELLED'], 20_000)
      child.process.send({ type: 'stop' })
      await child.next('stopped')
      expect((await exitWithin(child, 10_000)).code).toBe(0)
      return { run: done, pid: started.pid }
    }

    it('SIGKILL right after step 2: steps 1 and 2 ran once, step 3 runs once after the restart, run SUCCESS', async () => {
      const store = fx.store
      const name = uniqueName('crash-steps')
      const file = join(dir, `${name}.log`)
      const wf = defineWorkflow<CrashInput, number>({ name, run: mustNotRun({ n: 0 }) })
      const h = await wf.start(store, { file })

      const first = spawn({ workflow: name, kind: 'steps', crash: true })
      const { pid: pid1 } = await first.next('started')
      const exit = await exitWithin(first, 20_000)
      expect(exit.signal).toBe('SIGKILL')
      expect(lines(file)).toEqual([
        ['one', pid1],
        ['two', pid1],
        ['crash', pid1],
      ])
      expect((await getRun(store, h.id)).status).toBe('RUNNING')
      expect((await stepSummary(store, h.id)).map(([k, s]) => [k, s])).toEqual([
        ['one', 'SUCCESS'],
        ['two', 'SUCCESS'],
        ['three', 'RUNNING'],
      ])

      const { run, pid: pid2 } = await finishWithNewWorker({ workflow: name, kind: 'steps' }, h.id)
      expect(pid2).not.toBe(pid1)
      expect(run.status).toBe('SUCCESS')
      expect(run.output).toBe(3)
      expect(lines(file)).toEqual([
        ['one', pid1],
        ['two', pid1],
        ['crash', pid1],
        ['three', pid2],
      ])
      expect(await stepSummary(store, h.id)).toEqual([
        ['one', 'SUCCESS', 1],
        ['two', 'SUCCESS', 2],
        ['three', 'SUCCESS', 3],
      ])
      const m = await waitForArchived(store, h.messageId)
      expect(m.attempts, 'the lost lease counts as an attempt').toBe(2)
    })

    it('SIGKILL while the run waits for an event: the event sent afterwards is delivered to a new worker; no completed step runs again', async () => {
      const store = fx.store
      const name = uniqueName('crash-event')
      const file = join(dir, `${name}.log`)
      const wf = defineWorkflow<CrashInput, string>({ name, run: mustNotRun({ n: 0 }) })
      const h = await wf.start(store, { file })

      const first = spawn({ workflow: name, kind: 'event', crash: true })
      const { pid: pid1 } = await first.next('started')
      expect((await exitWithin(first, 20_000)).signal).toBe('SIGKILL')
      expect(lines(file)).toEqual([
        ['before', pid1],
        ['crash', pid1],
      ])
      expect((await getRun(store, h.id)).status).toBe('SLEEPING')
      const sent = await h.send('approve', { by: 'ada' }, { idempotencyKey: 'once' })
      expect(sent.woke).toBe(true)
      await h.send('approve', { by: 'ada' }, { idempotencyKey: 'once' })

      const { run, pid: pid2 } = await finishWithNewWorker({ workflow: name, kind: 'event' }, h.id)
      expect(run.status).toBe('SUCCESS')
      expect(run.output).toBe('ada')
      expect(lines(file)).toEqual([
        ['before', pid1],
        ['crash', pid1],
        ['after:ada', pid2],
      ])
      expect((await stepSummary(store, h.id)).map(([k, s]) => [k, s])).toEqual([
        ['before', 'SUCCESS'],
        ['wait:approve', 'SUCCESS'],
        ['after', 'SUCCESS'],
      ])
      const events = await store.events.list(h.id)
      expect(events.map((e) => e.consumedBy)).toEqual(['wait:approve'])
    })

    it('SIGKILL while a parent awaits its 10 children: a new worker finishes it; each child exists once; no completed step runs again', async () => {
      const store = fx.store
      const name = uniqueName('crash-kids')
      const file = join(dir, `${name}.log`)
      const wf = defineWorkflow<CrashInput, number>({ name, run: mustNotRun({ n: 0 }) })
      const h = await wf.start(store, { file })

      const first = spawn({ workflow: name, kind: 'children', crash: true })
      const { pid: pid1 } = await first.next('started')
      expect((await exitWithin(first, 20_000)).signal).toBe('SIGKILL')
      expect(lines(file)).toEqual([
        ['before', pid1],
        ['crash', pid1],
      ])
      expect((await getRun(store, h.id)).status).toBe('SLEEPING')
      const started = await admin(store).runs({ parentId: h.id })
      expect(started).toHaveLength(10)

      const { run, pid: pid2 } = await finishWithNewWorker(
        { workflow: name, kind: 'children' },
        h.id,
      )
      expect(run.status).toBe('SUCCESS')
      expect(run.output).toBe(45)
      const log = lines(file)
      expect(log.slice(0, 2)).toEqual([
        ['before', pid1],
        ['crash', pid1],
      ])
      // every child's step ran once, in the new worker; the parent's after step last
      expect(log.slice(2, 12).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => [`work:${i}`, pid2] as [string, number]).sort(),
      )
      expect(log.slice(12)).toEqual([['after', pid2]])
      const children = await admin(store).runs({ parentId: h.id })
      expect(children.map((c) => c.id).sort()).toEqual(started.map((c) => c.id).sort())
      expect(new Set(children.map((c) => c.parentStep)).size).toBe(10)
      expect(children.every((c) => c.status === 'SUCCESS')).toBe(true)
      expect((await admin(store).runs({ workflow: `${name}-kid` })).length).toBe(10)
      const steps = await stepSummary(store, h.id)
      expect(steps.filter(([k]) => k.startsWith('child:'))).toHaveLength(10)
      expect(steps.filter(([k]) => k.startsWith('await:'))).toHaveLength(10)
      expect(steps.every(([, s]) => s === 'SUCCESS')).toBe(true)
    })

    // Needs the harness's Kysely place for the step's own table: registered only when declared.
    const itWithKysely = harness.kysely ? it : () => {}
    itWithKysely(
      'SIGKILL inside a transactional step, before its commit: after the restart its row exists exactly once',
      async () => {
        const store = fx.store
        const place = kyselyPlace(harness, store)
        const table = `wf_crash_${Math.random().toString(36).slice(2, 8)}`
        await createNotesTable(place, table)
        const schema = place.schema
        const name = uniqueName('crash-tx')
        const file = join(dir, `${name}.log`)
        const wf = defineWorkflow<CrashInput, string>({ name, run: mustNotRun({ n: 0 }) })
        const h = await wf.start(store, { file })

        const first = spawn({ workflow: name, kind: 'transactional', crash: true, table, schema })
        const { pid: pid1 } = await first.next('started')
        expect((await exitWithin(first, 20_000)).signal).toBe('SIGKILL')
        expect(lines(file)).toEqual([
          ['reserve', pid1],
          ['pay-inserted', pid1],
        ])
        expect(await notesOf(place, table, h.id), 'the killed transaction left no row').toEqual([])
        expect((await stepSummary(store, h.id)).map(([k, s]) => [k, s])).toEqual([
          ['reserve', 'SUCCESS'],
          ['pay', 'RUNNING'],
        ])

        const { run, pid: pid2 } = await finishWithNewWorker(
          { workflow: name, kind: 'transactional', table, schema },
          h.id,
        )
        expect(run.status).toBe('SUCCESS')
        expect(run.output).toBe('paid')
        expect(await notesOf(place, table, h.id)).toEqual([`paid by ${pid2}`])
        expect(lines(file)).toEqual([
          ['reserve', pid1],
          ['pay-inserted', pid1],
          ['pay-inserted', pid2],
          ['receipt', pid2],
        ])
        expect(await stepSummary(store, h.id)).toEqual([
          ['reserve', 'SUCCESS', 'reserved'],
          ['pay', 'SUCCESS', 'paid'],
          ['receipt', 'SUCCESS', 'paid'],
        ])
      },
    )
  })
}
