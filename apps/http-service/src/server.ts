import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { type Store, ValidationError } from 'pgqrs'
import { jobState } from './job-state.ts'

/** Who is calling: what an {@link Authenticate} hook returns for a request it accepts. */
export interface Caller {
  readonly id: string
}

/**
 * Your application's authentication: the caller of a request, or null to answer 401. The example
 * checks bearer tokens from its settings; put your own here (a session cookie, OAuth, mTLS, a
 * gateway's header you trust).
 */
export type Authenticate = (req: FastifyRequest) => Caller | null | Promise<Caller | null>

/** The job as stored in the queue: the caller that created it, and the body it sent. */
export interface StoredJob {
  readonly owner: string
  readonly body: unknown
}

/** Bounds of the numbers a request may give; anything else is a 400 that names the range. */
export const LIMITS = Object.freeze({
  priority: { min: -100, max: 100 },
  delayMs: { min: 0, max: 24 * 60 * 60 * 1000 },
  /** The example job's pretend work (`{ "workMs": n }` in the body). */
  workMs: { min: 0, max: 60_000 },
})

/** A whole number in `[min, max]` from a query string, or a 400 naming the field and the range. */
function intParam(name: keyof typeof LIMITS, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  const { min, max } = LIMITS[name]
  const n = /^-?\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ValidationError(name, raw, `a whole number from ${min} to ${max}`)
  }
  return n
}

/** Options of {@link buildServer}. */
export interface ServerOptions {
  readonly authenticate: Authenticate
  /** Where details of failures go (never into responses). */
  readonly log: (line: string) => void
}

/**
 * The HTTP API (every route but `/healthz` needs a caller, see {@link Authenticate}):
 * - `POST /jobs` with a JSON body enqueues it as a job of the caller → `202 { id }` (optional
 *   `?delayMs=` and `?priority=`, whole numbers within {@link LIMITS}; a body or number pgqrs or
 *   the service refuses → `400 { error }`);
 * - `GET /jobs/:id` → `200 { id, state, attempts, lastError, enqueuedAt, archivedAt }` for a job
 *   of the same caller; `404` for an unknown id or another caller's job (its existence is not
 *   revealed);
 * - `GET /healthz` → `200 { ok: true }`.
 * Failures that are not the request's fault answer `500 { error: 'internal error', requestId }`:
 * no stack trace or database message leaves the service; the log has them under the request id.
 */
export function buildServer(store: Store, queue: string, options: ServerOptions): FastifyInstance {
  const app = Fastify({ logger: false, genReqId: () => randomUUID(), bodyLimit: 256 * 1024 })

  const callerOf = async (req: FastifyRequest): Promise<Caller> => {
    const caller = await options.authenticate(req)
    if (!caller) throw Object.assign(new Error('unauthenticated'), { statusCode: 401 })
    return caller
  }

  app.post<{ Querystring: { delayMs?: string; priority?: string } }>(
    '/jobs',
    async (req, reply) => {
      const caller = await callerOf(req)
      const delayMs = intParam('delayMs', req.query.delayMs)
      const priority = intParam('priority', req.query.priority)
      const workMs = (req.body as { workMs?: unknown } | null)?.workMs
      if (workMs !== undefined)
        intParam('workMs', typeof workMs === 'number' ? String(workMs) : '-')
      const producer = await store.producer<StoredJob>(queue)
      const job: StoredJob = { owner: caller.id, body: req.body ?? null }
      const msg = await producer.enqueue(job, { delayMs, priority })
      return reply.code(202).send({ id: msg.id })
    },
  )

  app.get<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    const caller = await callerOf(req)
    const id = /^[1-9]\d{0,15}$/.test(req.params.id) ? Number(req.params.id) : Number.NaN
    const msg = Number.isSafeInteger(id) ? await store.messages.get(id) : null
    const owner = (msg?.payload as StoredJob | undefined)?.owner
    if (!msg || msg.queue !== queue || owner !== caller.id)
      return reply.code(404).send({ error: `no job ${req.params.id}` })
    return {
      id: msg.id,
      state: jobState(msg),
      attempts: msg.attempts,
      lastError: msg.lastError,
      enqueuedAt: msg.enqueuedAt,
      archivedAt: msg.archivedAt,
    }
  })

  app.get('/healthz', async () => ({ ok: true }))

  app.setErrorHandler((err, req, reply) => {
    const status = (err as { statusCode?: number }).statusCode
    // the request's own fault: bad input (pgqrs validation, a number out of range), bad JSON, 401
    if (ValidationError.is(err)) return reply.code(400).send({ error: err.message })
    if (status !== undefined && status >= 400 && status < 500)
      return reply
        .code(status)
        .send({ error: status === 401 ? 'unauthenticated' : (err as Error).message })
    // anything else: a generic answer; the details only in the log
    options.log(`request ${req.id} failed: ${(err as Error).stack ?? String(err)}`)
    return reply.code(500).send({ error: 'internal error', requestId: req.id })
  })
  return app
}
