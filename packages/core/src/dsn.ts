import { ConfigError } from './errors.js'

/** Backends that `connect()` knows, by URL scheme. */
export const DSN_SCHEMES = {
  postgres: { backend: 'postgres', package: '@pgqrs/store-postgres' },
  postgresql: { backend: 'postgres', package: '@pgqrs/store-postgres' },
  sqlite: { backend: 'sqlite', package: '@pgqrs/store-sqlite' },
  turso: { backend: 'turso', package: '@pgqrs/store-turso' },
  libsql: { backend: 'turso', package: '@pgqrs/store-turso' },
} as const

/** A DSN scheme pgqrs supports. */
export type DsnScheme = keyof typeof DSN_SCHEMES

/** A parsed DSN. */
export type ParsedDsn =
  | {
      readonly backend: 'postgres'
      readonly scheme: DsnScheme
      readonly url: string
      readonly package: string
    }
  | {
      readonly backend: 'sqlite'
      readonly scheme: DsnScheme
      readonly path: string
      readonly package: string
    }
  | {
      readonly backend: 'turso'
      readonly scheme: DsnScheme
      /** A `file:` URL for a local database, or the remote `libsql://` URL without the token. */
      readonly url: string
      readonly authToken: string | undefined
      readonly package: string
    }

const supported = () =>
  `${Object.keys(DSN_SCHEMES)
    .map((s) => `${s}:`)
    .join(', ')}`

/**
 * Parses a DSN by exact scheme: `postgres://…` / `postgresql://…`, `sqlite:///abs/path.db`,
 * `sqlite:relative.db`, `sqlite::memory:`, `turso:///abs/path.db` (a local file) and
 * `libsql://host?authToken=…` (remote). Throws `ConfigError` naming the supported schemes.
 */
export function parseDsn(dsn: string): ParsedDsn {
  if (typeof dsn !== 'string' || dsn.trim() === '') {
    throw new ConfigError('dsn', `Missing DSN: use a URL with one of the schemes ${supported()}`)
  }
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(dsn.trim())
  if (!m)
    throw new ConfigError('dsn', `Malformed DSN (no scheme): use one of the schemes ${supported()}`)
  const scheme = m[1]!.toLowerCase()
  const rest = m[2]!
  if (!Object.hasOwn(DSN_SCHEMES, scheme)) {
    throw new ConfigError('dsn', `Unsupported DSN scheme "${scheme}:": use one of ${supported()}`)
  }
  const info = DSN_SCHEMES[scheme as DsnScheme]
  if (info.backend === 'postgres') {
    let url: URL
    try {
      url = new URL(dsn.trim())
    } catch {
      // Node's URL error keeps the raw input (the whole DSN, password included): never the cause
      throw new ConfigError('dsn', 'Malformed postgres DSN: use postgres://user:pass@host:5432/db')
    }
    if (!url.hostname && !url.searchParams.get('host')) {
      throw new ConfigError(
        'dsn',
        'Malformed postgres DSN (no host): use postgres://user:pass@host:5432/db',
      )
    }
    return {
      backend: 'postgres',
      scheme: scheme as DsnScheme,
      url: dsn.trim(),
      package: info.package,
    }
  }
  if (info.backend === 'sqlite') {
    const path = localPath(rest, 'sqlite')
    return { backend: 'sqlite', scheme: scheme as DsnScheme, path, package: info.package }
  }
  if (scheme === 'turso') {
    const path = localPath(rest, 'turso')
    if (path === ':memory:')
      return {
        backend: 'turso',
        scheme,
        url: ':memory:',
        authToken: undefined,
        package: info.package,
      }
    return {
      backend: 'turso',
      scheme,
      url: `file:${path}`,
      authToken: undefined,
      package: info.package,
    }
  }
  let url: URL
  try {
    url = new URL(dsn.trim())
  } catch {
    // Node's URL error keeps the raw input (the whole DSN, auth token included): never the cause
    throw new ConfigError('dsn', 'Malformed libsql DSN: use libsql://db-org.turso.io?authToken=...')
  }
  if (!url.hostname)
    throw new ConfigError(
      'dsn',
      'Malformed libsql DSN (no host): use libsql://db-org.turso.io?authToken=...',
    )
  const authToken = url.searchParams.get('authToken') ?? undefined
  url.searchParams.delete('authToken')
  return {
    backend: 'turso',
    scheme: 'libsql',
    url: url.toString(),
    authToken,
    package: info.package,
  }
}

function localPath(rest: string, scheme: string): string {
  const clean = rest.split('?')[0]!
  if (clean === ':memory:') return ':memory:'
  let path: string
  if (clean.startsWith('///')) path = clean.slice(2)
  else if (clean.startsWith('//')) {
    throw new ConfigError(
      'dsn',
      `Malformed ${scheme} DSN: use ${scheme}:///absolute/path.db or ${scheme}:relative/path.db`,
    )
  } else path = clean
  try {
    path = decodeURIComponent(path)
  } catch {
    throw new ConfigError('dsn', `Malformed ${scheme} DSN: bad percent-encoding in the path`)
  }
  if (!path)
    throw new ConfigError(
      'dsn',
      `Malformed ${scheme} DSN (no path): use ${scheme}:///absolute/path.db`,
    )
  return path
}
