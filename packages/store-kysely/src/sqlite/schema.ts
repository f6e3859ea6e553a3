import { sql } from 'kysely'
import type { SchemaSql } from '../family.js'
import type { Row } from '../row-mappers.js'
import { SQLITE_MIGRATIONS } from './migrations/index.js'

/**
 * The schema of the sqlite family. Installers serialise on `BEGIN IMMEDIATE` (the install runs in
 * one write transaction), which also makes an install all or nothing. @internal
 */
export function sqliteSchema(clock: () => number): SchemaSql {
  return {
    migrations: SQLITE_MIGRATIONS,
    location: 'this database',

    async prepare(db) {
      await sql`create table if not exists pgqrs_migrations (
        name text primary key, applied_at integer not null)`.execute(db)
    },

    async apply(db, m) {
      for (const text of m.statements) await sql.raw(text).execute(db)
    },

    async record(db, name) {
      await sql`insert into pgqrs_migrations (name, applied_at) values (${name}, ${clock()})`.execute(
        db,
      )
    },

    async applied(db) {
      const t = await sql<Row>`select count(*) as n from sqlite_master
        where type = 'table' and name = 'pgqrs_migrations'`.execute(db)
      if (Number(t.rows[0]?.n) === 0) return null
      const names = await sql<Row>`select name from pgqrs_migrations order by name`.execute(db)
      return names.rows.map((row) => String(row.name))
    },

    async dump(db) {
      const r = await sql<Row>`select type, name, sql from sqlite_master
        where name not like 'sqlite_%' and sql is not null
        order by case type when 'table' then 0 when 'index' then 1 else 2 end, name`.execute(db)
      return `${r.rows.map((row) => `${String(row.sql).trim()};`).join('\n\n')}\n`
    },
  }
}
