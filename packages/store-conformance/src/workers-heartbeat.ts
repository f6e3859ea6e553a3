import {
  ConflictError,
  InvalidStateTransitionError,
  type Store,
  WORKER_STATUSES,
  WORKER_TRANSITIONS,
  WorkerActiveError,
  type WorkerRecord,
  type WorkerStatus,
} from '@pgqrs/core'
import { hostname } from 'node:os'
import { admin, worker } from '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from './harness.js'
import { expectError, freshQueue, rejection, sleep, uniqueName, useStore } from './util.js'

/** Allowed transitions that lead from `ready` (the status after `register`) to each status. */
const PATH_FROM_READY: Readonly<Record<WorkerStatus, readonly WorkerStatus[]>> = {
  ready: [],
  polling: ['polling'],
  suspended: ['suspended'],
  interrupted: ['polling', 'interrupted'],
  stopped: ['suspended', 'stopped'],
}

/** Every `[from, to]` pair that {@link WORKER_TRANSITIONS} allows. */
function allowedPairs(): [WorkerStatus, WorkerStatus][] {
  const pairs: [WorkerStatus, WorkerStatus][] = []
  for (const to of WORKER_STATUSES) {
    for (const from of WORKER_TRANSITIONS[to]) pairs.push([from, to])
  }
  return pairs
}

async function registerIn(
  store: Store,
  status: WorkerStatus,
  queue?: string,
): Promise<WorkerRecord> {
  let worker = await store.workers.register({
    name: uniqueName(`w-${status}`),
    queue: queue ?? null,
    hostname: 'conformance-host',
    pid: process.pid,
  })
  for (const step of PATH_FROM_READY[status])
    worker = await store.workers.transition(worker.id, step)
  expect(worker.status).toBe(status)
  return worker
}

/**
 * Registers the worker registry tests: registration and name reuse, every allowed transition of
 * `WORKER_TRANSITIONS` and the refusal of the others, heartbeats, stale marking, health, listing
 * and deletion.
 */
export function workerTests(harness: StoreHarness): void {
  describe('workers and heartbeats', () => {
    const fx = useStore(harness)

    it('register returns a ready worker with an id, its queue and a heartbeat', async () => {
      const queue = await freshQueue(fx.store, 'workers')
      const record = await fx.store.queues.get(queue)
      const name = uniqueName('worker')
      const w = await fx.store.workers.register({ name, queue, hostname: 'host-a', pid: 4242 })
      expect(w.id).toBeGreaterThan(0)
      expect(w).toMatchObject({
        name,
        status: 'ready',
        hostname: 'host-a',
        pid: 4242,
        queueId: record!.id,
      })
      expect(w.heartbeatAt).toBeInstanceOf(Date)
      expect(w.startedAt).toBeInstanceOf(Date)
      expect(await fx.store.workers.get(w.id)).toMatchObject({ id: w.id, name, status: 'ready' })
      expect((await fx.store.workers.getByName(name))?.id).toBe(w.id)
      const other = await fx.store.workers.register({
        name: uniqueName('worker'),
        hostname: 'h',
        pid: 1,
      })
      expect(other.id).not.toBe(w.id)
      expect(other.queueId).toBeNull()
    })

    it('get and getByName of an unknown worker return null', async () => {
      expect(await fx.store.workers.get(2_000_000_000)).toBeNull()
      expect(await fx.store.workers.getByName(uniqueName('nobody'))).toBeNull()
    })

    it('registering the name of a live worker throws WorkerActiveError', async () => {
      const w = await registerIn(fx.store, 'polling')
      const e = await rejection(
        fx.store.workers.register({ name: w.name, hostname: 'other', pid: 1 }),
      )
      expectError(e, WorkerActiveError, 'WORKER_ACTIVE', w.name)
      expect(ConflictError.is(e)).toBe(true)
      expect(await fx.store.workers.get(w.id)).toMatchObject({
        status: 'polling',
        hostname: 'conformance-host',
      })
    })

    it('a stopped worker name can be registered again: same id, status ready', async () => {
      const w = await registerIn(fx.store, 'stopped')
      const again = await fx.store.workers.register({
        name: w.name,
        hostname: 'conformance-host',
        pid: process.pid,
      })
      expect(again.id).toBe(w.id)
      expect(again.status).toBe('ready')
      expect((await fx.store.workers.get(w.id))?.status).toBe('ready')
    })

    for (const [from, to] of allowedPairs()) {
      it(`transition ${from} → ${to} is allowed`, async () => {
        const w = await registerIn(fx.store, from)
        const moved = await fx.store.workers.transition(w.id, to)
        expect(moved.status).toBe(to)
        expect(moved.id).toBe(w.id)
        expect((await fx.store.workers.get(w.id))?.status).toBe(to)
      })
    }

    for (const from of WORKER_STATUSES) {
      const illegal = WORKER_STATUSES.filter((to) => !WORKER_TRANSITIONS[to].includes(from))
      it(`transitions from ${from} to ${illegal.join(', ')} throw InvalidStateTransitionError`, async () => {
        const w = await registerIn(fx.store, from)
        for (const to of illegal) {
          const e = expectError(
            await rejection(fx.store.workers.transition(w.id, to)),
            InvalidStateTransitionError,
            'INVALID_STATE_TRANSITION',
          )
          expect({ from: e.from, to: e.to }).toEqual({ from, to })
          expect((await fx.store.workers.get(w.id))?.status).toBe(from)
        }
      })
    }

    it('a restarted process with the same host and pid (a container) takes its name over; a live twin is refused', async () => {
      const q = await freshQueue(fx.store, 'restart')
      const name = uniqueName('pid-one')
      // the row of this process's predecessor: same host name and pid, another instance id
      const old = await fx.store.workers.register({
        name,
        queue: q,
        hostname: hostname(),
        pid: process.pid,
        instance: 'the-crashed-instance',
      })
      expect(old.instance).toBe('the-crashed-instance')
      const w = worker(fx.store, q, () => {}, { name, pollIntervalMs: 50 })
      await w.start()
      try {
        expect(w.record?.id).toBe(old.id)
        expect(w.record?.instance).not.toBe('the-crashed-instance')
        // a second worker of the same name in this same process is a live twin
        const twin = worker(fx.store, q, () => {}, { name, pollIntervalMs: 50 })
        expectError(await rejection(twin.start()), WorkerActiveError, 'WORKER_ACTIVE', name)
      } finally {
        await w.stop()
      }
    })

    it('admin.reclaimWorker frees the name of a worker whose process is gone, refusing a fresh heartbeat unless forced', async () => {
      const gone = await fx.store.workers.register({
        name: uniqueName('gone'),
        hostname: 'another-host',
        pid: 4242,
      })
      const e = expectError(
        await rejection(admin(fx.store).reclaimWorker(gone.name)),
        WorkerActiveError,
        'WORKER_ACTIVE',
        'heartbeat',
      )
      expect(e.status).toBe('ready')
      expect((await fx.store.workers.get(gone.id))?.status).toBe('ready')
      expect((await admin(fx.store).reclaimWorker(gone.name, { force: true })).status).toBe(
        'stopped',
      )
      // a stopped name registers again, from any host
      expect((await fx.store.workers.register({ name: gone.name, hostname: 'h', pid: 1 })).id).toBe(
        gone.id,
      )
      const stale = await registerIn(fx.store, 'polling')
      await sleep(150) // its heartbeat gets older than the 50 ms threshold below
      expect((await admin(fx.store).reclaimWorker(stale.name, { staleAfterMs: 50 })).status).toBe(
        'stopped',
      )
    })

    it('heartbeat returns true and advances heartbeatAt; false for an unknown worker', async () => {
      const w = await registerIn(fx.store, 'ready')
      await sleep(50)
      expect(await fx.store.workers.heartbeat(w.id)).toBe(true)
      const after = await fx.store.workers.get(w.id)
      expect(after!.heartbeatAt.getTime()).toBeGreaterThan(w.heartbeatAt.getTime())
      expect(await fx.store.workers.heartbeat(2_000_000_000)).toBe(false)
    })

    it('markStale stops workers without a recent heartbeat and returns their ids', async () => {
      const live = await registerIn(fx.store, 'ready')
      const silent = await registerIn(fx.store, 'polling')
      // 400 ms of silence against a 250 ms threshold leaves 250 ms of slack for a slow machine
      await sleep(400)
      expect(await fx.store.workers.heartbeat(live.id)).toBe(true)
      const stale = await fx.store.workers.markStale(250)
      expect(stale).toContain(silent.id)
      expect(stale).not.toContain(live.id)
      expect((await fx.store.workers.get(silent.id))?.status).toBe('stopped')
      expect((await fx.store.workers.get(live.id))?.status).toBe('ready')
    })

    it('health counts workers by status and stale ones, per queue', async () => {
      const queue = await freshQueue(fx.store, 'health')
      const ready = await registerIn(fx.store, 'ready', queue)
      await registerIn(fx.store, 'polling', queue)
      await registerIn(fx.store, 'suspended', queue)
      await registerIn(fx.store, 'stopped', queue)
      await registerIn(fx.store, 'ready')
      expect(await fx.store.workers.health({ staleAfterMs: 60_000, queue })).toEqual({
        total: 4,
        ready: 1,
        polling: 1,
        suspended: 1,
        interrupted: 0,
        stopped: 1,
        stale: 0,
      })
      await sleep(400)
      await fx.store.workers.heartbeat(ready.id)
      expect(await fx.store.workers.health({ staleAfterMs: 250, queue })).toMatchObject({
        total: 4,
        stale: 2,
      })
    })

    it('list filters by queue and orders by id', async () => {
      const qa = await freshQueue(fx.store, 'list-a')
      const qb = await freshQueue(fx.store, 'list-b')
      const a1 = await registerIn(fx.store, 'ready', qa)
      const b1 = await registerIn(fx.store, 'ready', qb)
      const a2 = await registerIn(fx.store, 'polling', qa)
      expect((await fx.store.workers.list({ queue: qa })).map((w) => w.id)).toEqual([a1.id, a2.id])
      expect((await fx.store.workers.list({ queue: qb })).map((w) => w.id)).toEqual([b1.id])
      const all = (await fx.store.workers.list()).map((w) => w.id)
      expect(all).toEqual(expect.arrayContaining([a1.id, a2.id, b1.id]))
      expect(all).toEqual([...all].sort((x, y) => x - y))
    })

    it('delete refuses a live worker and deletes a stopped one', async () => {
      const live = await registerIn(fx.store, 'ready')
      expect(await fx.store.workers.delete(live.id)).toBe(false)
      expect(await fx.store.workers.get(live.id)).not.toBeNull()
      const stopped = await registerIn(fx.store, 'stopped')
      expect(await fx.store.workers.delete(stopped.id)).toBe(true)
      expect(await fx.store.workers.get(stopped.id)).toBeNull()
      expect(await fx.store.workers.delete(stopped.id)).toBe(false)
    })
  })
}
