import { MigrationError, PgqrsError, type SchemaStatus, SchemaVersionError } from '@pgqrs/core'
import type { StoreExec } from './exec.js'

/**
 * Applies the family's missing migrations in ONE transaction, so an install is all or nothing and
 * two installers serialise (an advisory lock per schema on Postgres, `BEGIN IMMEDIATE` on the
 * sqlite family). A database holding migrations this code does not know (a newer pgqrs) is
 * refused with `SchemaVersionError` (`newer`): nothing is applied on top of a schema this code
 * cannot read. With `upTo`, stops after that migration (the upgrade tests build every earlier
 * schema level this way). Returns the names applied now.
 * @internal
 */
export async function runMigrations(exec: StoreExec, upTo?: string): Promise<string[]> {
  const schema = exec.f.schema
  const known = new Set(schema.migrations.map((m) => m.name))
  if (upTo !== undefined && !known.has(upTo))
    throw new MigrationError(`no migration named ${upTo}: known are ${[...known].join(', ')}`)
  try {
    return await exec.write('install', async (db) => {
      await schema.prepare(db)
      const applied = (await schema.applied(db)) ?? []
      const unknown = applied.filter((name) => !known.has(name))
      if (unknown.length > 0) {
        const expected = schema.migrations.at(-1)!.name
        throw new SchemaVersionError('newer', expected, applied.at(-1) ?? null, unknown)
      }
      const done: string[] = []
      for (const m of schema.migrations) {
        if (applied.includes(m.name)) {
          if (m.name === upTo) break
          continue
        }
        try {
          await schema.apply(db, m)
        } catch (cause) {
          throw new MigrationError(
            `migration ${m.name} failed: ${(cause as Error).message}`,
            m.name,
            { cause },
          )
        }
        await schema.record(db, m.name)
        done.push(m.name)
        if (m.name === upTo) break
      }
      return done
    })
  } catch (cause) {
    if (PgqrsError.is(cause) && cause.code !== 'STORE') throw cause
    throw new MigrationError(`pgqrs install failed: ${(cause as Error).message}`, undefined, {
      cause,
    })
  }
}

/** The applied migration names, oldest first; empty before install. @internal */
export async function listMigrations(exec: StoreExec): Promise<string[]> {
  return exec.read('migrations', async (db) => (await exec.f.schema.applied(db)) ?? [])
}

/** The installed schema against the family's migrations (see `Store.schemaStatus`). @internal */
export async function schemaStatus(exec: StoreExec): Promise<SchemaStatus> {
  const { migrations, location } = exec.f.schema
  const applied = await exec.read('schemaStatus', (db) => exec.f.schema.applied(db))
  const expected = migrations.at(-1)!.name
  const known = new Set(migrations.map((m) => m.name))
  const have = new Set(applied ?? [])
  const pending = migrations.map((m) => m.name).filter((name) => !have.has(name))
  const unknown = (applied ?? []).filter((name) => !known.has(name))
  const state =
    applied === null || applied.length === 0
      ? 'missing'
      : unknown.length > 0
        ? 'newer'
        : pending.length > 0
          ? 'older'
          : 'current'
  return {
    state,
    expected,
    installed: applied?.at(-1) ?? null,
    pending,
    unknown,
    location,
  }
}
