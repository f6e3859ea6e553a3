import { type ChildProcess, fork } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Store } from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { planned } from '../plan.js'
import { freshQueue, uniqueName, useStore, waitFor } from '../util.js'
import type { WorkerChildArgs, WorkerChildMessage } from './children/protocol.js'

const MESSAGES = 20_000
const PROCESSES = 4
const CONCURRENCY = 8

/** A forked worker child. @internal */
export interface WorkerChild {
  readonly name: string
  readonly logFile: string
  readonly process: ChildProcess
  /** Resolves with the next message of `type`; an `error` message or an early exit rejects. */
  next<T extends WorkerChildMessage['type']>(
    type: T,
    timeoutMs?: number,
  ): Promise<Extract<WorkerChildMessage, { type: T }>>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

function childScript(file: string): string {
  const path = fileURLToPath(new URL(`./children/${file}`, import.meta.url))
  if (existsSync(path)) return path
  const built = path.replace(/[/\\]src[/\\]queue-worker[/\\]/, '/dist/queue-worker/')
  if (existsSync(built)) return built
  throw new Error(`store-conformance: ${path} is missing; build the package first`)
}

/** Forks a child of `./children/` (default the worker child) with `args`. @internal */
export function forkWorker(args: WorkerChildArgs, script = 'worker.js'): WorkerChild {
  const child = fork(childScript(script), [JSON.stringify(args)], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const inbox: WorkerChildMessage[] = []
  const waiters = new Set<() => void>()
  let ended = false
  child.on('message', (m: WorkerChildMessage) => {
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
  const next: WorkerChild['next'] = (type, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`worker child ${args.name}: no '${type}' within ${timeoutMs} ms`))
      }, timeoutMs)
      function check() {
        const err = inbox.find((m) => m.type === 'error')
        const i = inbox.findIndex((m) => m.type === type)
        if (err && err.type === 'error') {
          clearTimeout(timer)
          waiters.delete(check)
          reject(new Error(`worker child ${args.name} failed: ${err.message}\n${err.stack ?? ''}`))
        } else if (i >= 0) {
          clearTimeout(timer)
          waiters.delete(check)
          resolve(inbox.splice(i, 1)[0] as never)
        } else if (ended) {
          clearTimeout(timer)
          waiters.delete(check)
          reject(new Error(`worker child ${args.name} exited before '${type}'`))
        }
      }
      waiters.add(check)
      check()
    })
  return { name: args.name, logFile: args.logFile, process: child, next, exited }
}

/** Ids in a child's log, one per handler call. */
function handledIds(logFile: string): number[] {
  if (!existsSync(logFile)) return []
  const text = readFileSync(logFile, 'utf8')
  const complete = text.slice(0, text.lastIndexOf('\n') + 1)
  return complete
    .split('\n')
    .filter((l) => l !== '')
    .map(Number)
}

async function enqueueAll(store: Store, queue: string): Promise<number[]> {
  const producer = await store.producer<{ n: number }>(queue)
  const ids: number[] = []
  for (let start = 0; start < MESSAGES; start += 5_000) {
    const batch = Array.from({ length: 5_000 }, (_, i) => ({ n: start + i }))
    ids.push(...(await producer.enqueueMany(batch)).map((m) => m.id))
  }
  return ids
}

/**
 * Postgres (multi-process stores) only: four forked worker processes, each `worker()` with
 * concurrency 8, drain 20 000 messages with none lost and none handled twice; and with one of them
 * SIGKILLed midway none is lost and only the messages the killed process held are handled twice.
 */
export function multiProcessWorkerTests(harness: StoreHarness): void {
  if (!planned(harness, 'queue-worker: worker processes')) return
  describe('worker processes (multi-process stores)', () => {
    const fx = useStore(harness)

    async function run(options: { killAfter?: number; leaseMs: number }) {
      const { store } = fx
      const queue = await freshQueue(store, 'mp-workers')
      const ids = await enqueueAll(store, queue)
      expect(new Set(ids).size).toBe(MESSAGES)
      const { dsn, config } = harness.connection(store)
      const dir = mkdtempSync(join(tmpdir(), 'pgqrs-qw-'))
      const children: WorkerChild[] = []
      try {
        for (let i = 0; i < PROCESSES; i++) {
          const name = uniqueName(`mp-worker-${i}`)
          children.push(
            forkWorker({
              dsn,
              config: { ...config, logger: false },
              queue,
              name,
              concurrency: CONCURRENCY,
              batchSize: 16,
              leaseMs: options.leaseMs,
              pollIntervalMs: 50,
              logFile: join(dir, `${i}.log`),
            }),
          )
        }
        await Promise.all(children.map((c) => c.next('started', 60_000)))
        const victim = options.killAfter === undefined ? null : children[0]!
        if (victim) {
          await waitFor(() => handledIds(victim.logFile).length >= options.killAfter!, {
            timeoutMs: 60_000,
            intervalMs: 5,
            what: `${options.killAfter} messages handled by the victim`,
          })
          victim.process.kill('SIGKILL')
          expect((await victim.exited).signal).toBe('SIGKILL')
        }
        await waitFor(async () => (await store.queues.metrics(queue))!.archived === MESSAGES, {
          timeoutMs: 120_000,
          intervalMs: 250,
          what: `all ${MESSAGES} messages archived`,
        })
        const survivors = children.filter((c) => c !== victim)
        for (const c of survivors) c.process.send({ type: 'stop' })
        const reports = await Promise.all(survivors.map((c) => c.next('stopped', 30_000)))
        const exits = await Promise.all(survivors.map((c) => c.exited))
        expect(exits.map((e) => e.code)).toEqual(survivors.map(() => 0))
        expect(reports.flatMap((r) => r.errors)).toEqual([])
        const metrics = await store.queues.metrics(queue)
        expect(metrics).toMatchObject({
          pending: 0,
          leased: 0,
          delayed: 0,
          dead: 0,
          archived: MESSAGES,
        })
        const perChild = children.map((c) => handledIds(c.logFile))
        reports.forEach((r, i) => {
          expect(r.handled).toBe(perChild[children.indexOf(survivors[i]!)]!.length)
        })
        const counts = new Map<number, number>()
        for (const list of perChild)
          for (const id of list) counts.set(id, (counts.get(id) ?? 0) + 1)
        const lost = ids.filter((id) => !counts.has(id))
        const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id)
        return { lost, twice, perChild, victim, counts }
      } finally {
        for (const c of children)
          if (c.process.exitCode === null && c.process.signalCode === null)
            c.process.kill('SIGKILL')
        await Promise.all(children.map((c) => c.exited))
        rmSync(dir, { recursive: true, force: true })
      }
    }

    it(`${PROCESSES} worker processes drain ${MESSAGES} messages: 0 lost, 0 handled twice`, {
      timeout: 180_000,
    }, async () => {
      const { lost, twice, perChild } = await run({ leaseMs: 30_000 })
      expect(lost).toEqual([])
      expect(twice).toEqual([])
      expect(
        perChild.every((l) => l.length > 0),
        `handled per process: ${perChild.map((l) => l.length)}`,
      ).toBe(true)
    })

    it('one worker process SIGKILLed midway: 0 lost; only what it held is handled twice', {
      timeout: 180_000,
    }, async () => {
      const { lost, twice, perChild } = await run({ leaseMs: 2_000, killAfter: 2_000 })
      expect(lost).toEqual([])
      const victimIds = new Set(perChild[0])
      expect(victimIds.size).toBeGreaterThanOrEqual(2_000)
      expect(
        twice.filter((id) => !victimIds.has(id)),
        'handled twice without the killed process',
      ).toEqual([])
      expect(twice.length).toBeLessThanOrEqual(CONCURRENCY)
    })
  })
}
