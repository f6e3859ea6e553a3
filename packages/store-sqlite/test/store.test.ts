// SqliteStore start-up: a resolved-looking config is validated all the same, and a file that is
// not a database fails with ConnectionError and leaves no file handle open.
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, ConnectionError, silentLogger } from '@pgqrs/core'
import { KyselyStore } from '@pgqrs/store-kysely'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { SqliteStore } from '../src/index.js'

const dir = mkdtempSync(join(tmpdir(), 'pgqrs-sqlite-store-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The paths this process holds open. */
const openFiles = () =>
  readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)]
    } catch {
      return []
    }
  })

describe('sqlite: store start-up', () => {
  it('a frozen config that looks resolved is validated all the same (ConfigError naming the field)', () => {
    const database = new Database(':memory:')
    try {
      const bad = Object.freeze({ leaseMs: -5, logger: silentLogger })
      expect(
        () =>
          new KyselyStore({
            db: new Kysely({ dialect: new SqliteDialect({ database }) }),
            family: 'sqlite',
            backend: 'sqlite',
            capabilities: {
              concurrency: 'single-process',
              skipLocked: false,
              notifications: false,
              sharedAcrossProcesses: false,
            },
            config: bad as never,
          }),
      ).toThrow(ConfigError)
    } finally {
      database.close()
    }
  })

  it('a file that is not a database is a ConnectionError, and its handle is closed', () => {
    const path = join(dir, 'not-a-database.db')
    writeFileSync(
      path,
      'this is no SQLite file, just text that is long enough to be read as a header',
    )
    let error: unknown = null
    try {
      new SqliteStore({ path, logger: false })
    } catch (e) {
      error = e
    }
    expect(ConnectionError.is(error)).toBe(true)
    expect(openFiles().filter((f) => f.startsWith(path))).toEqual([])
  })
})
