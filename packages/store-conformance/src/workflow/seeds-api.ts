import { admin, consumer, dequeue } from '@pgqrs/queue'
import { run, workflow, workflowHandler, workflowStep } from '@pgqrs/workflow'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from '../harness.js'
import { uniqueName, useStore } from '../util.js'
import { getMessage, getRun, stepSummary } from './helpers.js'

/**
 * The seeds' API of SPEC 5.1, run as written: `workflow().name().store().create()/trigger()`,
 * `consumer(name, queue).create()`, `workflowHandler` + `workflowStep` under
 * `dequeue().worker().handle().execute()`, and the low-level `run()` / `acquireStep` / guard flow.
 */
export function seedsApiTests(harness: StoreHarness): void {
  describe('seeds API (SPEC 5.1)', () => {
    const fx = useStore(harness)

    it('create() is idempotent; trigger + workflowHandler + dequeue().worker().handle().execute() completes the run and archives its message', async () => {
      const store = fx.store
      const name = uniqueName('archive_files')
      await workflow().name(name).store(store).create()
      await workflow().name(name).store(store).create()
      expect((await store.workflows.list()).filter((w) => w.name === name)).toHaveLength(1)
      expect(await store.queues.get(name), 'the workflow queue').not.toBeNull()

      const c = await consumer('worker-1', name).create(store)
      const msg = await workflow()
        .name(name)
        .store(store)
        .trigger({ path: '/tmp/report.csv' })
        .execute()
      expect(msg.payload).toEqual({ input: { path: '/tmp/report.csv' } })
      const runs = await admin(store).runs({ workflow: name })
      expect(runs.map((r) => [r.status, r.messageId])).toEqual([['QUEUED', msg.id]])

      const calls: string[] = []
      const handler = workflowHandler(store, async (r, input: { path: string }) => {
        const files = await workflowStep(r, 'list_files', async () => {
          calls.push('list_files')
          return [input.path]
        })
        const archive = await workflowStep(r, 'create_archive', async () => {
          calls.push('create_archive')
          return `${files[0]}.zip`
        })
        return { archive }
      })
      const handled = await dequeue().worker(c).handle(handler).execute(store)
      expect(handled.map((m) => m.id)).toEqual([msg.id])

      const done = await getRun(store, runs[0]!.id)
      expect(done.status).toBe('SUCCESS')
      expect(done.output).toEqual({ archive: '/tmp/report.csv.zip' })
      expect(done.completedAt).toBeInstanceOf(Date)
      expect(calls).toEqual(['list_files', 'create_archive'])
      expect(await stepSummary(store, done.id)).toEqual([
        ['list_files', 'SUCCESS', ['/tmp/report.csv']],
        ['create_archive', 'SUCCESS', '/tmp/report.csv.zip'],
      ])
      const archived = await getMessage(store, msg.id)
      expect(archived.archivedAt, 'message archived').toBeInstanceOf(Date)
      expect(await dequeue().worker(c).handle(handler).execute(store)).toEqual([])
    })

    it('low level: consumer.dequeue, run().message().store().execute(), acquireStep EXECUTE → guard.success, then SKIP with the output, run.complete, consumer.archive', async () => {
      const store = fx.store
      const name = uniqueName('archive_files')
      await workflow().name(name).store(store).create()
      const c = await consumer('worker-2', name).create(store)
      const triggered = await workflow()
        .name(name)
        .store(store)
        .trigger({ path: '/tmp/report.csv' })
        .execute()

      const [msg] = await c.dequeue()
      expect(msg?.id).toBe(triggered.id)
      const r = await run().message(msg!).store(store).execute()
      const [listed] = await admin(store).runs({ workflow: name })
      expect(r.id, 'the run that trigger created').toBe(listed!.id)
      expect(r.input).toEqual({ path: '/tmp/report.csv' })

      const step = await r.acquireStep<string[]>('list_files')
      expect(step.status).toBe('EXECUTE')
      expect(step.output).toBeUndefined()
      const input = (msg!.payload as { input: { path: string } }).input
      await step.guard.success([input.path])

      const again = await r.acquireStep<string[]>('list_files')
      expect(again.status).toBe('SKIP')
      expect(again.output).toEqual(['/tmp/report.csv'])

      const completed = await r.complete({ archive: '/tmp/report.csv.zip' })
      expect(completed.status).toBe('SUCCESS')
      expect(await c.archive(msg!)).toBe(true)

      const stored = await getRun(store, r.id)
      expect(stored.status).toBe('SUCCESS')
      expect(stored.output).toEqual({ archive: '/tmp/report.csv.zip' })
      expect(await stepSummary(store, r.id)).toEqual([
        ['list_files', 'SUCCESS', ['/tmp/report.csv']],
      ])
      expect((await getMessage(store, msg!.id)).archivedAt).toBeInstanceOf(Date)
    })
  })
}
