import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, NotFoundError, type Store, ValidationError } from '@pgqrs/core'
import { schedule, Scheduler, schedules, worker } from '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { planned } from '../plan.js'
import { expectError, freshQueue, rejection, sleep, uniqueName, useStore } from '../util.js'
import { workerTracker } from './helpers.js'
import { forkWorker, type WorkerChild } from './multi-process.js'

interface Fired {
  readonly schedule: string
  readonly tick: string
  readonly messageId: number | null
  readonly missed: boolean
}

/** Collects the `tick` events of schedulers. */
function recorder(...schedulers: Scheduler[]): Fired[] {
  const fired: Fired[] = []
  for (const s of schedulers)
    s.on('tick', (schedule, tick, messageId, missed) =>
      fired.push({ schedule, tick: tick.toISOString(), messageId, missed }),
    )
  return fired
}

/** Moves a schedule's next tick back to `secondsAgo` whole seconds before now (as if every process had been down). */
async function rewind(store: Store, name: string, secondsAgo: number): Promise<Date> {
  const s = (await store.schedules!.get(name))!
  const at = new Date(Math.floor(Date.now() / 1000) * 1000 - secondsAgo * 1000)
  expect(await store.schedules!.claim(name, s.revision, at, null)).toBe(true)
  return at
}

const ofSchedule = (fired: readonly Fired[], name: string) =>
  fired.filter((f) => f.schedule === name)

/**
 * Cron schedules (issue 14, item 3), for stores with a schedules repository: definition and
 * management, bad input, exactly one message per tick with several schedulers, catch-up, overlap,
 * workflow schedules and, where processes share the database, worker processes firing a per-second
 * schedule (4 processes on a multi-process store, 2 otherwise).
 */
export function scheduleTests(harness: StoreHarness): void {
  if (!planned(harness, 'schedules')) return
  describe('schedules', () => {
    const fx = useStore(harness)
    const track = workerTracker()

    it('defines, lists, pauses, resumes and removes a schedule; defining it again keeps its next tick', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'sched-def')
      const name = uniqueName('def')
      const s = await schedule(store, {
        name,
        cron: '0 3 * * *',
        timezone: 'Europe/Paris',
        queue: q,
        payload: { kind: 'nightly' },
        overlap: 'skip',
        catchUp: 'latest',
      })
      expect(s).toMatchObject({
        name,
        cron: '0 3 * * *',
        timezone: 'Europe/Paris',
        kind: 'queue',
        target: q,
        payload: { kind: 'nightly' },
        overlap: 'skip',
        catchUp: 'latest',
        pausedAt: null,
        lastTickAt: null,
        lastMessageId: null,
      })
      // 03:00 in Paris is 01:00 or 02:00 UTC (winter / summer time)
      expect([1, 2]).toContain(s.nextRunAt.getUTCHours())
      expect(s.nextRunAt.getTime()).toBeGreaterThan(Date.now())
      const again = await schedule(store, {
        name,
        cron: '0 3 * * *',
        timezone: 'Europe/Paris',
        queue: q,
      })
      expect(again.nextRunAt.getTime()).toBe(s.nextRunAt.getTime())
      expect(again.revision).toBeGreaterThan(s.revision)
      expect(again).toMatchObject({ overlap: 'allow', catchUp: 'none', payload: {} })
      const moved = await schedule(store, { name, cron: '*/5 * * * * *', queue: q })
      expect(moved.timezone).toBeNull()
      expect(moved.nextRunAt.getTime() - Date.now()).toBeLessThanOrEqual(5_000)

      const all = schedules(store)
      expect((await all.list()).map((x) => x.name)).toContain(name)
      expect((await all.pause(name)).pausedAt).toBeInstanceOf(Date)
      expect((await store.schedules!.due(100)).due.map((x) => x.name)).not.toContain(name)
      const resumed = await all.resume(name)
      expect(resumed.pausedAt).toBeNull()
      expect(resumed.nextRunAt.getTime()).toBeGreaterThan(Date.now() - 1_000)
      expect((await all.get(name)).name).toBe(name)
      expect(await all.remove(name)).toBe(true)
      expect(await all.remove(name)).toBe(false)
      expectError(await rejection(all.get(name)), NotFoundError, 'NOT_FOUND')
      expectError(await rejection(all.pause(name)), NotFoundError, 'NOT_FOUND')
    })

    it('refuses bad definitions with a ValidationError naming the field', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'sched-bad')
      const bad = async (o: Record<string, unknown>, field: string) => {
        const e = expectError(
          await rejection(
            schedule(store, {
              name: uniqueName('bad'),
              queue: q,
              cron: '* * * * *',
              ...o,
            } as never),
          ),
          ValidationError,
          'VALIDATION',
        )
        expect(e.field).toContain(field)
      }
      await bad({ cron: 'every minute' }, 'cron')
      await bad({ cron: '* * *' }, 'cron')
      await bad({ cron: '61 * * * * *' }, 'cron')
      await bad({ timezone: 'Mars/Olympus' }, 'timezone')
      await bad({ overlap: 'queue' }, 'overlap')
      await bad({ catchUp: 'some' }, 'catchUp')
      await bad({ name: 'no spaces' }, 'schedule name')
      await bad({ payload: { big: 10n } }, 'big')
      expectError(
        await rejection(
          schedule(store, {
            name: uniqueName('both'),
            cron: '* * * * *',
            queue: q,
            workflow: q,
          } as never),
        ),
        ConfigError,
        'CONFIG',
      )
      expect((await schedules(store).list()).map((x) => x.target)).not.toContain(q)
    })

    it('two schedulers on a six-field per-second schedule: one message per tick, no tick twice', {
      timeout: 20_000,
    }, async () => {
      const { store } = fx
      const q = await freshQueue(store, 'sched-two')
      const name = uniqueName('two')
      await schedule(store, { name, cron: '*/1 * * * * *', queue: q, payload: { hello: 1 } })
      const a = new Scheduler(store, { pollIntervalMs: 100 })
      const b = new Scheduler(store, { pollIntervalMs: 100 })
      const fired = recorder(a, b)
      a.start()
      b.start()
      await sleep(3_300)
      await Promise.all([a.stop(), b.stop()])
      const mine = ofSchedule(fired, name)
      expect(mine.length).toBeGreaterThanOrEqual(2)
      expect(mine.length).toBeLessThanOrEqual(5)
      expect(new Set(mine.map((f) => f.tick)).size).toBe(mine.length)
      const messages = await store.messages.list(q)
      expect(messages.length).toBe(mine.length)
      expect(messages.map((m) => m.payload)).toEqual(mine.map(() => ({ hello: 1 })))
      expect(new Set(messages.map((m) => m.dedupeKey))).toEqual(
        new Set(mine.map((f) => `schedule:${name}:${f.tick}`)),
      )
      await schedules(store).remove(name)
    })

    it("missed ticks follow catchUp: 'none' drops them, 'latest' fires one, 'all' fires each", async () => {
      const { store } = fx
      const names = { none: '', latest: '', all: '' } as Record<'none' | 'latest' | 'all', string>
      const queues = { ...names }
      for (const mode of ['none', 'latest', 'all'] as const) {
        queues[mode] = await freshQueue(store, `sched-catch-${mode}`)
        names[mode] = uniqueName(`catch-${mode}`)
        await schedule(store, {
          name: names[mode],
          cron: '* * * * * *',
          queue: queues[mode],
          catchUp: mode,
        })
      }
      const from = new Map<string, Date>()
      for (const n of Object.values(names)) from.set(n, await rewind(store, n, 10))
      const s = new Scheduler(store, { pollIntervalMs: 1_000 })
      const fired = recorder(s)
      await s.pollOnce()
      const none = ofSchedule(fired, names.none)
      const latest = ofSchedule(fired, names.latest)
      const all = ofSchedule(fired, names.all)
      // ticks older than the grace (pollIntervalMs + 1 s) are missed; the newer ones fire for all three
      expect(none.filter((f) => f.missed)).toEqual([])
      expect(none.length).toBeGreaterThanOrEqual(1)
      expect(latest.filter((f) => f.missed).length).toBe(1)
      expect(latest.filter((f) => !f.missed).length).toBe(none.length)
      expect(all.filter((f) => f.missed).length).toBeGreaterThanOrEqual(6)
      expect(all.filter((f) => !f.missed).length).toBe(none.length)
      // 'all' fired every second from the rewound tick on, in order, once each
      const seconds = all.map((f) => Date.parse(f.tick))
      expect(seconds[0]).toBe(from.get(names.all)!.getTime())
      expect(seconds).toEqual(seconds.map((_, i) => seconds[0]! + i * 1000))
      // the latest missed tick is the one just before the first on-time tick
      const lm = Date.parse(latest.find((f) => f.missed)!.tick)
      expect(Date.parse(latest.find((f) => !f.missed)!.tick) - lm).toBe(1000)
      for (const mode of ['none', 'latest', 'all'] as const) {
        expect((await store.messages.list(queues[mode])).length).toBe(
          ofSchedule(fired, names[mode]).length,
        )
        const after = await schedules(store).get(names[mode])
        expect(after.nextRunAt.getTime()).toBeGreaterThan(
          Date.parse(ofSchedule(fired, names[mode]).at(-1)!.tick),
        )
        await schedules(store).remove(names[mode])
      }
    })

    it("overlap: 'skip' enqueues nothing while the previous tick's message is active", async () => {
      const { store } = fx
      const q = await freshQueue(store, 'sched-skip')
      const name = uniqueName('skip')
      await schedule(store, {
        name,
        cron: '* * * * * *',
        queue: q,
        overlap: 'skip',
        catchUp: 'all',
      })
      await rewind(store, name, 4)
      const s = new Scheduler(store, { pollIntervalMs: 1_000 })
      const fired = recorder(s)
      await s.pollOnce()
      const first = ofSchedule(fired, name)
      expect(first.length).toBeGreaterThanOrEqual(4)
      expect(first.filter((f) => f.messageId !== null).length).toBe(1)
      const active = await store.messages.list(q)
      expect(active.map((m) => m.id)).toEqual([first[0]!.messageId])
      // once that message is done, the next tick enqueues again
      const [m] = await store.messages.dequeue(q, { batchSize: 1, leaseMs: 10_000 })
      expect(await store.messages.archive([m!])).toEqual([true])
      await rewind(store, name, 1)
      fired.length = 0
      await s.pollOnce()
      expect(ofSchedule(fired, name).filter((f) => f.messageId !== null).length).toBe(1)
      expect((await store.messages.list(q)).length).toBe(1)
      await schedules(store).remove(name)
    })

    it('a workflow schedule starts one run per tick, keyed by schedule and tick', async () => {
      const { store } = fx
      const wf = uniqueName('sched-wf')
      const name = uniqueName('wf')
      const s0 = await schedule(store, {
        name,
        cron: '* * * * * *',
        workflow: wf,
        input: { a: 1 },
        catchUp: 'all',
      })
      expect(s0).toMatchObject({ kind: 'workflow', target: wf, payload: { a: 1 } })
      await rewind(store, name, 3)
      const s = new Scheduler(store, { pollIntervalMs: 1_000 })
      const fired = recorder(s)
      await s.pollOnce()
      const mine = ofSchedule(fired, name)
      expect(mine.length).toBeGreaterThanOrEqual(3)
      const runs = await store.runs.list({ workflow: wf })
      expect(runs.length).toBe(mine.length)
      expect(runs.every((r) => r.status === 'QUEUED')).toBe(true)
      expect(runs.map((r) => r.input)).toEqual(mine.map(() => ({ a: 1 })))
      // the run of a tick is its idempotency key: starting it again returns the same run
      const again = await store.runs.start(
        wf,
        { a: 1 },
        { idempotencyKey: `schedule:${name}:${mine[0]!.tick}` },
      )
      expect(again.created).toBe(false)
      expect(mine.map((f) => f.messageId)).toContain(again.message.id)
      await schedules(store).remove(name)
    })

    it('workers share one scheduler per process and store; scheduler: false runs none', async () => {
      const { store } = fx
      const q = await freshQueue(store, 'sched-workers')
      const a = track(worker(store, q, async () => {}, { pollIntervalMs: 50 }))
      const b = track(worker(store, q, async () => {}, { pollIntervalMs: 50 }))
      const c = track(worker(store, q, async () => {}, { pollIntervalMs: 50, scheduler: false }))
      expect(a.scheduler).toBeNull()
      await a.start()
      await b.start()
      await c.start()
      expect(a.scheduler).toBeInstanceOf(Scheduler)
      expect(b.scheduler).toBe(a.scheduler)
      expect(c.scheduler).toBeNull()
      const shared = a.scheduler!
      await a.stop()
      expect(shared.running).toBe(true)
      await b.stop()
      expect(shared.running).toBe(false)
      await c.stop()
      await track.stopAll()
    })

    if (harness.capabilities.sharedAcrossProcesses) {
      const processes = harness.capabilities.concurrency === 'multi-process' ? 4 : 2
      it(`${processes} processes (a worker and a scheduler each) on a per-second schedule for 10 s: 9-11 messages, none twice; stopped 5 s with catchUp 'latest': one catch-up`, {
        timeout: 90_000,
      }, async () => {
        const { store } = fx
        const q = await freshQueue(store, 'sched-mp')
        const idle = await freshQueue(store, 'sched-mp-idle')
        const name = uniqueName('mp')
        const { dsn, config } = harness.connection(store)
        const dir = mkdtempSync(join(tmpdir(), 'pgqrs-sched-'))
        const children: WorkerChild[] = []
        const startAll = async (round: number) => {
          const started: WorkerChild[] = []
          for (let i = 0; i < processes; i++)
            started.push(
              forkWorker(
                {
                  dsn,
                  config: { ...config, logger: false },
                  queue: idle,
                  name: uniqueName(`sched-${round}-${i}`),
                  concurrency: 1,
                  batchSize: 1,
                  leaseMs: 30_000,
                  pollIntervalMs: 1_000,
                  logFile: join(dir, `${round}-${i}.log`),
                },
                'scheduler.js',
              ),
            )
          children.push(...started)
          await Promise.all(started.map((c) => c.next('started', 60_000)))
          return started
        }
        const stopAll = async (group: WorkerChild[]) => {
          for (const c of group) c.process.send({ type: 'stop' })
          const reports = await Promise.all(group.map((c) => c.next('stopped', 30_000)))
          expect(reports.flatMap((r) => r.errors)).toEqual([])
        }
        const ticks = (round: number): Fired[] =>
          Array.from({ length: processes }, (_, i) => {
            const text = readFileSync(join(dir, `${round}-${i}.log`), 'utf8')
            return text
              .split('\n')
              .filter((l) => l !== '')
              .map((l) => JSON.parse(l) as Fired)
          })
            .flat()
            .filter((f) => f.schedule === name)
        try {
          const first = await startAll(1)
          // defined once every process runs: its first tick is the next second
          await schedule(store, { name, cron: '*/1 * * * * *', queue: q, catchUp: 'latest' })
          await sleep(10_000)
          await stopAll(first)
          const one = ticks(1)
          expect(
            one.length,
            `ticks fired in 10 s: ${one.map((f) => f.tick)}`,
          ).toBeGreaterThanOrEqual(9)
          expect(one.length).toBeLessThanOrEqual(11)
          expect(new Set(one.map((f) => f.tick)).size).toBe(one.length)
          expect(one.filter((f) => f.missed)).toEqual([])
          expect((await store.messages.list(q, { limit: 1000 })).length).toBe(one.length)

          await sleep(5_000)
          const second = await startAll(2)
          await sleep(3_000)
          await stopAll(second)
          const two = ticks(2)
          expect(
            two.filter((f) => f.missed).length,
            `after the restart: ${JSON.stringify(two)}`,
          ).toBe(1)
          const everyTick = [...one, ...two].map((f) => f.tick)
          expect(new Set(everyTick).size).toBe(everyTick.length)
          expect((await store.messages.list(q, { limit: 1000 })).length).toBe(everyTick.length)
        } finally {
          for (const c of children)
            if (c.process.exitCode === null && c.process.signalCode === null)
              c.process.kill('SIGKILL')
          await Promise.all(children.map((c) => c.exited))
          rmSync(dir, { recursive: true, force: true })
          await schedules(store).remove(name)
        }
      })
    }
  })
}
