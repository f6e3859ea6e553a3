import { PgqrsError } from '@pgqrs/core'
import { redact } from '../security.js'
import { Layout } from '../views/layout.js'
import { type DashboardContext, html, type RouteDeps, viewContext } from './context.js'

type ErrorStatus = 400 | 403 | 404 | 409 | 500 | 501

/** A page that says what went wrong (every text escaped; credentials cut out). */
export function errorPage(
  c: DashboardContext,
  deps: RouteDeps,
  status: ErrorStatus,
  title: string,
  text: string,
): Response {
  const v = viewContext(c, deps)
  return html(
    c,
    <Layout v={v} title={title} section="none">
      <h1>{title}</h1>
      <p class="flash flash-error" role="alert">
        {redact(text)}
      </p>
      <p>
        <a href={`${v.base}/`}>Back to the overview</a>
      </p>
    </Layout>,
    status,
  )
}

/** 404 with `text`. */
export function notFound(c: DashboardContext, deps: RouteDeps, text: string): Response {
  return errorPage(c, deps, 404, 'Not found', text)
}

/** The pgqrs error codes that are the caller's mistake or a refused state change, by status. */
const STATUS_BY_CODE: Readonly<Record<string, ErrorStatus>> = {
  NOT_FOUND: 404,
  QUEUE_NOT_FOUND: 404,
  WORKFLOW_NOT_FOUND: 404,
  VALIDATION: 400,
  CONFLICT: 409,
  INVALID_STATE_TRANSITION: 409,
  LEASE_LOST: 409,
}

/**
 * The error page for anything a route threw: pgqrs's refusals (a replay of an active message, a
 * cancel of a finished run) say why with 4xx; anything else is a 500 whose text is redacted.
 */
export function errorResponse(c: DashboardContext, deps: RouteDeps, error: unknown): Response {
  const status = PgqrsError.is(error) ? STATUS_BY_CODE[error.code] : undefined
  const message = error instanceof Error ? error.message || error.name : String(error)
  if (status === undefined) return errorPage(c, deps, 500, 'Something went wrong', message)
  return errorPage(c, deps, status, status === 409 ? 'Refused' : 'Cannot do that', message)
}
