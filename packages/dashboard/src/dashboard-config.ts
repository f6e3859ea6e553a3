import { randomBytes } from 'node:crypto'
import { ConfigError, type Store } from '@pgqrs/core'
import { type DashboardSource, storeSource } from './source.js'

/** Options of {@link createDashboard}. Give `store` or `source`, not both. */
export interface DashboardOptions {
  /** The store to show (read through {@link storeSource}). */
  readonly store?: Store
  /** What to show, when it is not a plain store (a wrapper, a test double, a newer store API). */
  readonly source?: DashboardSource
  /**
   * The path prefix the dashboard is mounted under, e.g. `/admin/pgqrs`; default `''` (the root).
   * Every link and form the pages contain starts with it.
   */
  readonly basePath?: string
  /** Hides every action and refuses every POST but login/logout with 403; default false. */
  readonly readOnly?: boolean
  /**
   * When set, every page needs it: as `Authorization: Bearer <token>`, or once on the login form,
   * which sets an HttpOnly, SameSite=Strict session cookie. Default: no token (bind to localhost).
   */
  readonly token?: string
  /**
   * Key of the session and CSRF cookies' signatures. Default: random per dashboard instance, so a
   * restart logs everyone out; set it when several instances serve one address.
   */
  readonly secret?: string
  /** How often the open page refreshes its live part; default 3 000 ms (at least 1 000). */
  readonly refreshMs?: number
  /** How often the queue counts are sampled while the dashboard is viewed; default 5 000 ms. */
  readonly sampleIntervalMs?: number
  /** Rows per list (messages, runs, workers); default 50, at most 500. */
  readonly pageSize?: number
  /** Shown in the header and the page titles; default `pgqrs`. */
  readonly title?: string
}

/** {@link DashboardOptions} validated, with defaults filled in, frozen. */
export interface DashboardConfig {
  readonly source: DashboardSource
  readonly basePath: string
  readonly readOnly: boolean
  readonly token: string | null
  readonly secret: Buffer
  readonly refreshMs: number
  readonly sampleIntervalMs: number
  readonly pageSize: number
  readonly title: string
}

/** Defaults of {@link DashboardOptions}. */
export const DASHBOARD_DEFAULTS = {
  refreshMs: 3_000,
  sampleIntervalMs: 5_000,
  pageSize: 50,
  title: 'pgqrs',
} as const

function intOption(
  field: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(
      field,
      `Invalid dashboard ${field} ${v}: use an integer from ${min} to ${max}`,
    )
  }
  return v
}

function basePathOption(value: string | undefined): string {
  const path = (value ?? '').replace(/\/+$/, '')
  if (path !== '' && !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(path)) {
    throw new ConfigError(
      'basePath',
      `Invalid dashboard basePath "${value}": use a path that starts with "/", e.g. "/admin/pgqrs"`,
    )
  }
  return path
}

/** Validates `options` once, fills in the defaults and freezes the result. */
export function resolveDashboardConfig(options: DashboardOptions): DashboardConfig {
  if (!options.store === !options.source) {
    throw new ConfigError('store', 'createDashboard needs exactly one of { store } or { source }')
  }
  if (options.token !== undefined && options.token.length === 0) {
    throw new ConfigError('token', 'Invalid dashboard token: an empty token protects nothing')
  }
  if (options.secret !== undefined && options.secret.length < 16) {
    throw new ConfigError('secret', 'Invalid dashboard secret: use at least 16 characters')
  }
  return Object.freeze({
    source: options.source ?? storeSource(options.store!),
    basePath: basePathOption(options.basePath),
    readOnly: options.readOnly ?? false,
    token: options.token ?? null,
    secret: options.secret === undefined ? randomBytes(32) : Buffer.from(options.secret),
    refreshMs: intOption(
      'refreshMs',
      options.refreshMs,
      DASHBOARD_DEFAULTS.refreshMs,
      1_000,
      600_000,
    ),
    sampleIntervalMs: intOption(
      'sampleIntervalMs',
      options.sampleIntervalMs,
      DASHBOARD_DEFAULTS.sampleIntervalMs,
      500,
      3_600_000,
    ),
    pageSize: intOption('pageSize', options.pageSize, DASHBOARD_DEFAULTS.pageSize, 1, 500),
    title: options.title ?? DASHBOARD_DEFAULTS.title,
  })
}
