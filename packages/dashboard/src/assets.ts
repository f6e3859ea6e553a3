import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { STYLESHEET } from './views/stylesheet.js'

/** One static file the pages load: served under `path` with a year-long immutable cache. */
export interface Asset {
  readonly path: string
  readonly type: string
  readonly body: string
}

const require = createRequire(import.meta.url)
const htmxVersion = (require('htmx.org/package.json') as { version: string }).version

/** A short content hash, so that a new version of a file gets a new URL. */
function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10)
}

const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2f6feb"/>' +
  '<path d="M4 5h8M4 8h8M4 11h5" stroke="#fff" stroke-width="1.6" stroke-linecap="round"/></svg>'

/**
 * The static files: htmx from its npm package (read once from disk, never from a CDN), the
 * stylesheet and the icon. Pages link them by these paths (under the base path).
 */
export const ASSETS = {
  htmx: {
    path: `/assets/htmx-${htmxVersion}.min.js`,
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(require.resolve('htmx.org/dist/htmx.min.js'), 'utf8'),
  },
  css: {
    path: `/assets/dashboard-${hash(STYLESHEET)}.css`,
    type: 'text/css; charset=utf-8',
    body: STYLESHEET,
  },
  icon: { path: `/assets/icon-${hash(ICON)}.svg`, type: 'image/svg+xml', body: ICON },
} as const satisfies Record<string, Asset>
