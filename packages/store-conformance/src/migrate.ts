import { connect, SchemaNotInstalledError, type Store } from '@pgqrs/core'
import { describe, expect, it } from 'vitest'
import { forkChild } from './fork-child.js'
import type { StoreHarness } from './harness.js'
import { expectError, rejection, uniqueName, useStore } from './util.js'

/**
 * Creates an unmigrated store, runs `fn` with it and destroys it afterwards, whatever happens.
 */
async function withFreshStore<T>(
  harness: StoreHarness,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await harness.create({ migrate: false })
  try {
    return await fn(store)
  } finally {
    await harness.destroy(store)
  }
}

/**
 * Registers the migration tests: idempotent `migrate()`, `SchemaNotInstalledError` before it,
 * concurrent migration from two stores and from two child processes on one fresh database.
 */
export function migrateTests(harness: StoreHarness): void {
  describe('migrate', () => {
    const fx = useStore(harness)

    it('migrate() twice succeeds and leaves the migration list unchanged', async () => {
      const before = await fx.store.migrations()
      expect(before.length).toBeGreaterThan(0)
      expect(new Set(before).size).toBe(before.length)
      await fx.store.migrate()
      await fx.store.migrate()
      expect(await fx.store.migrations()).toEqual(before)
      const queue = uniqueName('after-migrate')
      await fx.store.queues.ensure(queue)
      expect(await fx.store.queues.get(queue)).not.toBeNull()
    })

    it('before migrate, migrations() is [] and operations throw SchemaNotInstalledError; then migrate works', async () => {
      const expected = await fx.store.migrations()
      await withFreshStore(harness, async (store) => {
        expect(await store.migrations()).toEqual([])
        for (const op of [
          () => store.queues.list(),
          () => store.messages.enqueue('tasks', [{ payload: 1 }]),
        ]) {
          expectError(
            await rejection(op()),
            SchemaNotInstalledError,
            'SCHEMA_NOT_INSTALLED',
            'install',
          )
        }
        expect(await store.migrations()).toEqual([])
        await store.migrate()
        expect(await store.migrations()).toEqual(expected)
        expect(await store.queues.list()).toEqual([])
        await store.queues.ensure('tasks')
        expect(await store.messages.enqueue('tasks', [{ payload: 1 }])).toHaveLength(1)
      })
    })

    it('two stores on one database migrating concurrently both succeed with one migration list', async () => {
      const expected = await fx.store.migrations()
      await withFreshStore(harness, async (first) => {
        const { dsn, config } = harness.connection(first)
        const second = await connect(dsn, config)
        try {
          await Promise.all([first.migrate(), second.migrate()])
          expect(await first.migrations()).toEqual(expected)
          expect(await second.migrations()).toEqual(expected)
          const queue = uniqueName('shared')
          const created = await first.queues.ensure(queue)
          expect((await second.queues.get(queue))?.id).toBe(created.id)
        } finally {
          await second.close()
        }
      })
    }, 60_000)

    it('two child processes migrating one fresh database at once both exit 0 with one schema version', async () => {
      const expected = await fx.store.migrations()
      await withFreshStore(harness, async (store) => {
        const { dsn, config } = harness.connection(store)
        const children = [
          forkChild('migrate', { dsn, config }),
          forkChild('migrate', { dsn, config }),
        ]
        try {
          await Promise.all(children.map((c) => c.next('ready')))
          for (const c of children) c.go()
          const reports = await Promise.all(children.map((c) => c.next('migrated')))
          const exits = await Promise.all(children.map((c) => c.exited))
          expect(exits.map((e) => e.code)).toEqual([0, 0])
          for (const r of reports) expect(r.migrations).toEqual(expected)
          expect(await store.migrations()).toEqual(expected)
          const queue = uniqueName('after-children')
          await store.queues.ensure(queue)
          expect(await store.queues.get(queue)).not.toBeNull()
        } finally {
          for (const c of children) c.kill()
        }
      })
    }, 60_000)
  })
}
