import type { Child } from 'hono/jsx'
import { ASSETS } from '../assets.js'

/** What every view needs to know about the request and the dashboard. */
export interface ViewContext {
  /** The mount prefix: every link starts with it. */
  readonly base: string
  readonly title: string
  /** The store's backend name (`postgres`, `sqlite`, …); never its DSN. */
  readonly backend: string
  readonly readOnly: boolean
  /** The CSRF token for this browser's CSRF cookie. */
  readonly csrf: string
  /** True when a token protects the dashboard (then the header has a log-out button). */
  readonly protected: boolean
  readonly refreshMs: number
  /** The current path and query (with the base), without the one-shot `ok`/`error` parameters. */
  readonly path: string
  /** The render time (epoch ms): relative times are computed against it. */
  readonly now: number
}

/** A one-line notice at the top of a page (after an action). */
export interface Flash {
  readonly kind: 'ok' | 'error'
  readonly text: string
}

/** The sections of the top navigation. */
export type Section = 'overview' | 'queues' | 'runs' | 'workers' | 'none'

const NAV: readonly { section: Section; label: string; href: string }[] = [
  { section: 'overview', label: 'Overview', href: '/' },
  { section: 'runs', label: 'Runs', href: '/runs' },
  { section: 'workers', label: 'Workers', href: '/workers' },
]

// htmx options: no indicator <style> (the CSP forbids inline styles), no eval, no inline scripts
// from responses, no requests to other origins, and no copies of pages in localStorage (payloads).
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  selfRequestsOnly: true,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
})

/** The HTML document around a page: header, navigation, flash, content. */
export function Layout(props: {
  v: ViewContext
  title: string
  section: Section
  flash?: Flash | undefined
  children?: Child
}) {
  const { v } = props
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${props.title} · ${v.title}`}</title>
        <link rel="stylesheet" href={`${v.base}${ASSETS.css.path}`} />
        <link rel="icon" href={`${v.base}${ASSETS.icon.path}`} type="image/svg+xml" />
        <script src={`${v.base}${ASSETS.htmx.path}`} defer />
      </head>
      <body hx-headers={JSON.stringify({ 'X-CSRF-Token': v.csrf })}>
        <header class="top">
          <a class="brand" href={`${v.base}/`}>
            {v.title}
          </a>
          <nav>
            {NAV.map((n) => (
              <a
                href={`${v.base}${n.href}`}
                class={n.section === props.section ? 'current' : undefined}
                aria-current={n.section === props.section ? 'page' : undefined}
              >
                {n.label}
              </a>
            ))}
          </nav>
          <span class="badge">{v.backend}</span>
          {v.readOnly ? <span class="badge read-only">read-only</span> : null}
          {v.protected ? (
            <form method="post" action={`${v.base}/logout`} class="inline">
              <input type="hidden" name="_csrf" value={v.csrf} />
              <button type="submit" class="link">
                Log out
              </button>
            </form>
          ) : null}
        </header>
        <main>
          {props.flash ? (
            <p class={`flash flash-${props.flash.kind}`} role="status">
              {props.flash.text}
            </p>
          ) : null}
          {props.children}
        </main>
      </body>
    </html>
  )
}

/**
 * The part of a page that refreshes itself: htmx asks for the same URL every `refreshMs` and the
 * server answers with this element only (one fixed set of queries per refresh, never one per row).
 */
export function Live(props: { v: ViewContext; children?: Child }) {
  return (
    <div
      id="live"
      hx-get={props.v.path}
      hx-trigger={`every ${props.v.refreshMs}ms`}
      hx-swap="outerHTML"
      hx-target="this"
    >
      {props.children}
    </div>
  )
}

/**
 * A one-button POST form for an action, with the CSRF token and the page to come back to. Renders
 * nothing in read-only mode (the server refuses the POST anyway).
 */
export function Action(props: {
  v: ViewContext
  action: string
  label: string
  danger?: boolean
  name?: string
  fields?: Readonly<Record<string, string>>
}) {
  const { v } = props
  if (v.readOnly) return null
  return (
    <form method="post" action={`${v.base}${props.action}`} class="inline action">
      <input type="hidden" name="_csrf" value={v.csrf} />
      <input type="hidden" name="back" value={v.path} />
      {Object.entries(props.fields ?? {}).map(([k, val]) => (
        <input type="hidden" name={k} value={val} />
      ))}
      <button
        type="submit"
        class={props.danger ? 'danger' : undefined}
        data-action={props.name ?? props.label.toLowerCase()}
      >
        {props.label}
      </button>
    </form>
  )
}
