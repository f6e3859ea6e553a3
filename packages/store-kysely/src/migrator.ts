import { MigrationError, PgqrsError } from '@pgqrs/core'
import { sql } from 'kysely'
import type { Db } from './dialect.js'
import type { StoreExec } from './exec.js'
import { POSTGRES_MIGRATIONS } from './migrations/postgres.js'
import { SQLITE_MIGRATIONS } from './migrations/sqlite.js'
import type { PgqrsMigration } from './migrations/types.js'

/** Advisory-lock class id for pgqrs installs (the second key is the schema's hash). */
const PG_LOCK_CLASS = 72_007_001

/**
 * Applies the missing migrations in ONE transaction, so an install is all or nothing and two
 * installers serialise: Postgres takes a transaction-scoped advisory lock per schema before it
 * even creates the schema; the sqlite family holds the write lock from `BEGIN IMMEDIATE`
 * (kysely's own Migrator takes no lock on SQLite and runs its DDL outside a transaction).
 * @internal
 */
export async function runMigrations(exec: StoreExec, schema: string): Promise<string[]> {
  const family = exec.d.family
  const migrations = family === 'postgres' ? POSTGRES_MIGRATIONS : SQLITE_MIGRATIONS
  try {
    return await exec.write('install', async (db) => {
      if (family === 'postgres') {
        await sql`select pg_advisory_xact_lock(${PG_LOCK_CLASS}, hashtext(${schema}))`.execute(db)
        await sql`create schema if not exists ${sql.id(schema)}`.execute(db)
        await sql`create table if not exists ${sql.id(schema, 'pgqrs_migrations')} (
          name text primary key, applied_at timestamptz not null default now())`.execute(db)
      } else {
        await sql`create table if not exists pgqrs_migrations (
          name text primary key, applied_at integer not null)`.execute(db)
      }
      const applied = new Set(await appliedNames(db, family, schema))
      const done: string[] = []
      for (const m of migrations) {
        if (applied.has(m.name)) continue
        await applyOne(db, m, schema, family, exec.d.clock())
        done.push(m.name)
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

async function applyOne(db: Db, m: PgqrsMigration, schema: string, family: string, now: number) {
  try {
    await m.up(db, schema)
  } catch (cause) {
    throw new MigrationError(`migration ${m.name} failed: ${(cause as Error).message}`, m.name, {
      cause,
    })
  }
  if (family === 'postgres') {
    await sql`insert into ${sql.id(schema, 'pgqrs_migrations')} (name) values (${m.name})`.execute(
      db,
    )
  } else {
    await sql`insert into pgqrs_migrations (name, applied_at) values (${m.name}, ${now})`.execute(
      db,
    )
  }
}

async function appliedNames(db: Db, family: string, schema: string): Promise<string[]> {
  const table =
    family === 'postgres' ? sql.id(schema, 'pgqrs_migrations') : sql.id('pgqrs_migrations')
  const r = await sql<{ name: string }>`select name from ${table} order by name`.execute(db)
  return r.rows.map((row) => row.name)
}

/** The applied migration names, oldest first; empty before install. @internal */
export async function listMigrations(exec: StoreExec, schema: string): Promise<string[]> {
  return exec.read('migrations', async (db) => {
    if (exec.d.family === 'postgres') {
      const r = await sql<{
        ok: boolean
      }>`select to_regclass(format('%I.%I', ${schema}::text, 'pgqrs_migrations')) is not null as ok`.execute(
        db,
      )
      if (!r.rows[0]?.ok) return []
    } else {
      const r = await sql<{
        n: number
      }>`select count(*) as n from sqlite_master where type = 'table' and name = 'pgqrs_migrations'`.execute(
        db,
      )
      if (Number(r.rows[0]?.n) === 0) return []
    }
    return appliedNames(db, exec.d.family, schema)
  })
}
