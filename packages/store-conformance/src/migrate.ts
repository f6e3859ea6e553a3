import { connect, SchemaNotInstalledError, SchemaVersionError, type Store } from '@pgqrs/core'
import { admin, worker } from '@pgqrs/queue'
import { describe, expect, it } from 'vitest'
import { forkChild } from './fork-child.js'
import type { StoreHarness } from './harness.js'
import { expectError, rejection, uniqueName, useStore } from './util.js'

/** The part of Kysely these tests use on the migrations table. */
interface MigrationsDb {
  withSchema(schema: string): MigrationsDb
  insertInto(table: string): {
    values(row: Record<string, unknown>): { execute(): Promise<unknown> }
  }
  deleteFrom(table: string): {
    where(column: string, op: '=', value: unknown): { execute(): Promise<unknown> }
  }
}

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

    it('schemaStatus: missing before install, current after; a worker refuses to start before install', async () => {
      await withFreshStore(harness, async (store) => {
        expect(await store.schemaStatus()).toMatchObject({ state: 'missing', installed: null })
        const w = worker(store, 'tasks', () => {})
        expectError(
          await rejection(w.start()),
          SchemaNotInstalledError,
          'SCHEMA_NOT_INSTALLED',
          'install',
        )
        expect(w.state).toBe('stopped')
        await store.migrate()
        const status = await store.schemaStatus()
        expect(status).toMatchObject({ state: 'current', pending: [], unknown: [] })
        expect(status.installed).toBe(status.expected)
        expect((await store.migrations()).at(-1)).toBe(status.expected)
        expect((await admin(store).verify()).ok).toBe(true)
      })
    })

    // Older and newer schemas are made by editing the migrations table, through the harness's Kysely.
    const itWithKysely = harness.kysely ? it : () => {}
    itWithKysely(
      'a newer schema (a migration this code does not know): workers, install and verify refuse it with SchemaVersionError',
      async () => {
        await withFreshStore(harness, async (store) => {
          await store.migrate()
          const { db, schema } = harness.kysely!(store) as {
            db: MigrationsDb
            schema: string | null
          }
          const table = schema === null ? db : db.withSchema(schema)
          await table
            .insertInto('pgqrs_migrations')
            .values({
              name: '9999_from_the_future',
              applied_at: schema === null ? Date.now() : new Date(),
            })
            .execute()
          expect(await store.schemaStatus()).toMatchObject({
            state: 'newer',
            unknown: ['9999_from_the_future'],
          })
          const e = expectError(
            await rejection(worker(store, 'tasks', () => {}).start()),
            SchemaVersionError,
            'SCHEMA_VERSION',
            'upgrade pgqrs',
          )
          expect(e.direction).toBe('newer')
          expectError(await rejection(store.migrate()), SchemaVersionError, 'SCHEMA_VERSION')
          const verified = await admin(store).verify()
          expect(verified.ok).toBe(false)
          expect(verified.problems.join(' ')).toMatch(/newer than this pgqrs/)
        })
      },
    )

    itWithKysely(
      'an older schema (a migration of this code missing): workers refuse it and verify says to run install',
      async () => {
        await withFreshStore(harness, async (store) => {
          await store.migrate()
          const latest = (await store.schemaStatus()).expected
          const { db, schema } = harness.kysely!(store) as {
            db: MigrationsDb
            schema: string | null
          }
          const table = schema === null ? db : db.withSchema(schema)
          await table.deleteFrom('pgqrs_migrations').where('name', '=', latest).execute()
          expect(await store.schemaStatus()).toMatchObject({ state: 'older', pending: [latest] })
          const e = expectError(
            await rejection(worker(store, 'tasks', () => {}).start()),
            SchemaVersionError,
            'SCHEMA_VERSION',
            'install',
          )
          expect(e.direction).toBe('older')
          expect(e.expected).toBe(latest)
          const verified = await admin(store).verify()
          expect(verified.ok).toBe(false)
          expect(verified.problems.join(' ')).toMatch(/older than this pgqrs.*run install/)
        })
      },
    )

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
