import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ConfigError, DSN_SCHEMES, parseDsn } from '../src/index.js'

function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError, nothing was thrown')
}

const ALL_SCHEMES = ['postgres:', 'postgresql:', 'sqlite:', 'turso:', 'libsql:']

describe('parseDsn: postgres', () => {
  it.each([
    ['postgres://user:pass@localhost:5432/mydb', 'postgres'],
    ['postgresql://user:pass@localhost:5432/mydb', 'postgresql'],
    ['postgres://db.internal/app?sslmode=require', 'postgres'],
  ])('%s → @pgqrs/store-postgres with the URL kept', (dsn, scheme) => {
    expect(parseDsn(dsn)).toEqual({
      backend: 'postgres',
      scheme,
      url: dsn,
      package: '@pgqrs/store-postgres',
    })
  })

  it('accepts a Unix socket given by the host parameter', () => {
    const dsn = 'postgres:///app?host=/var/run/postgresql'
    expect(parseDsn(dsn)).toMatchObject({ backend: 'postgres', url: dsn })
  })

  it('trims surrounding white space', () => {
    expect(parseDsn('  postgres://h/db \n')).toMatchObject({ url: 'postgres://h/db' })
  })

  it('refuses a postgres URL without a host', () => {
    expect(configError(() => parseDsn('postgres:///mydb')).message).toMatch(/no host/)
  })

  it('refuses a malformed postgres URL without carrying the DSN (or its password) in message or cause', () => {
    const err = configError(() => parseDsn('postgres://user:s3cret@[::1/db'))
    expect(err.field).toBe('dsn')
    expect(err.message).toMatch(/Malformed postgres DSN/)
    expect(err.message).toContain('postgres://user:pass@host:5432/db')
    expect(err.message).not.toContain('s3cret')
    // Node's URL error repeats the raw input, so it is not kept as the cause
    expect(err.cause).toBeUndefined()
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain('s3cret')
  })
})

describe('parseDsn: sqlite', () => {
  it.each([
    ['sqlite::memory:', ':memory:'],
    ['sqlite:///abs/path.db', '/abs/path.db'],
    ['sqlite:///var/data/app.db', '/var/data/app.db'],
    ['sqlite:data.db', 'data.db'],
    ['sqlite:dir/sub/data.db', 'dir/sub/data.db'],
    ['sqlite:./data.db', './data.db'],
    ['sqlite:///tmp/my%20file.db', '/tmp/my file.db'],
    ['sqlite:///tmp/app.db?mode=rwc', '/tmp/app.db'],
  ])('%s → path %s', (dsn, path) => {
    expect(parseDsn(dsn)).toEqual({
      backend: 'sqlite',
      scheme: 'sqlite',
      path,
      package: '@pgqrs/store-sqlite',
    })
  })

  it.each([
    ['sqlite://host/app.db', /sqlite:\/\/\/absolute\/path\.db/],
    ['sqlite:', /no path/],
    ['sqlite:///tmp/bad%zz.db', /percent-encoding/],
  ])('refuses %s', (dsn, says) => {
    const err = configError(() => parseDsn(dsn))
    expect(err.field).toBe('dsn')
    expect(err.message).toMatch(says)
  })
})

describe('parseDsn: turso / libsql', () => {
  it('turso:///path is a local file: URL', () => {
    expect(parseDsn('turso:///var/data/app.db')).toEqual({
      backend: 'turso',
      scheme: 'turso',
      url: 'file:/var/data/app.db',
      authToken: undefined,
      package: '@pgqrs/store-turso',
    })
  })

  it('a relative turso path, and turso::memory:', () => {
    expect(parseDsn('turso:local.db')).toMatchObject({ url: 'file:local.db' })
    expect(parseDsn('turso::memory:')).toMatchObject({ backend: 'turso', url: ':memory:' })
  })

  it('libsql://host?authToken=t splits the token off the URL', () => {
    const parsed = parseDsn('libsql://db-org.turso.io?authToken=t0k3n')
    expect(parsed).toEqual({
      backend: 'turso',
      scheme: 'libsql',
      url: 'libsql://db-org.turso.io',
      authToken: 't0k3n',
      package: '@pgqrs/store-turso',
    })
  })

  it('keeps other query parameters and never leaks the token into the URL', () => {
    const parsed = parseDsn('libsql://db-org.turso.io/?tls=1&authToken=secret')
    if (parsed.backend !== 'turso') throw new Error('expected turso')
    expect(parsed.authToken).toBe('secret')
    expect(parsed.url).toContain('tls=1')
    expect(parsed.url).not.toContain('secret')
    expect(parsed.url).not.toContain('authToken')
  })

  it('libsql without a token leaves it undefined', () => {
    expect(parseDsn('libsql://127.0.0.1:8080')).toMatchObject({ authToken: undefined })
  })

  it('refuses libsql without a host', () => {
    expect(configError(() => parseDsn('libsql:///x?authToken=t')).message).toMatch(/no host/)
  })
})

describe('parseDsn: unknown and malformed', () => {
  it.each([
    'postgresx://h/db',
    'postgres+ssl://h/db',
    'pg://h/db',
    'sqlite3:data.db',
    'sqlitex::memory:',
    'file:/tmp/app.db',
    'mysql://h/db',
    'https://example.com',
    'libsqlx://h',
  ])('refuses %s (exact scheme match) and lists the supported schemes', (dsn) => {
    const err = configError(() => parseDsn(dsn))
    expect(err.field).toBe('dsn')
    expect(err.message).toMatch(/Unsupported DSN scheme/)
    for (const s of ALL_SCHEMES) expect(err.message).toContain(s)
  })

  it.each([
    ['', /Missing DSN/],
    ['   ', /Missing DSN/],
    ['postgres', /no scheme/],
    ['/var/data/app.db', /no scheme/],
    ['://h/db', /no scheme/],
    ['1sqlite:x.db', /no scheme/],
  ])('refuses %j and names the schemes', (dsn, says) => {
    const err = configError(() => parseDsn(dsn))
    expect(err.message).toMatch(says)
    for (const s of ALL_SCHEMES) expect(err.message).toContain(s)
  })

  it('refuses a DSN that is not a string', () => {
    for (const bad of [undefined, null, 42, { url: 'sqlite::memory:' }]) {
      expect(configError(() => parseDsn(bad as unknown as string)).field).toBe('dsn')
    }
  })

  it('knows exactly the schemes of SPEC section 3', () => {
    expect(Object.keys(DSN_SCHEMES).sort()).toEqual([
      'libsql',
      'postgres',
      'postgresql',
      'sqlite',
      'turso',
    ])
  })

  // 500 generated DSNs: a few seconds on a loaded 2-core machine, hence the longer timeout
  it('property: any string parses or throws ConfigError, never another error', {
    timeout: 30_000,
  }, () => {
    const anyDsn = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc
        .tuple(
          fc.constantFrom('postgres', 'postgresql', 'sqlite', 'turso', 'libsql', 'x'),
          fc.string({ maxLength: 30 }),
        )
        .map(([s, rest]) => `${s}:${rest}`),
      fc.webUrl().map((u) => u.replace(/^https?/, 'libsql')),
    )
    fc.assert(
      fc.property(anyDsn, (dsn) => {
        try {
          const parsed = parseDsn(dsn)
          expect(['postgres', 'sqlite', 'turso']).toContain(parsed.backend)
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('property: a scheme that merely starts like a supported one is refused', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('postgres', 'postgresql', 'sqlite', 'turso', 'libsql'),
        fc.stringMatching(/^[a-z0-9+.-]{1,4}$/),
        (scheme, suffix) => {
          fc.pre(!Object.hasOwn(DSN_SCHEMES, scheme + suffix))
          expect(configError(() => parseDsn(`${scheme}${suffix}://host/db`)).message).toMatch(
            /Unsupported/,
          )
        },
      ),
    )
  })
})
