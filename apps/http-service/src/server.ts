import Fastify, { type FastifyInstance } from 'fastify'
import { PgqrsError, type Store, ValidationError } from 'pgqrs'
import { jobState } from './job-state.ts'

/**
 * The HTTP API:
 * - `POST /jobs` with a JSON body enqueues it as a job's payload → `202 { id }`
 *   (optional `?delayMs=` and `?priority=`; a payload pgqrs refuses → `400 { error }`);
 * - `GET /jobs/:id` → `200 { id, state, attempts, lastError, enqueuedAt, archivedAt }`, where
 *   state is pending, leased, delayed, archived or dead; `404` for an unknown id;
 * - `GET /healthz` → `200 { ok: true }`.
 */
export function buildServer(store: Store, queue: string): FastifyInstance {
  const app = Fastify({ logger: false })

  app.post<{ Querystring: { delayMs?: string; priority?: string } }>(
    '/jobs',
    async (req, reply) => {
      const producer = await store.producer(queue)
      const delayMs = req.query.delayMs === undefined ? undefined : Number(req.query.delayMs)
      const priority = req.query.priority === undefined ? undefined : Number(req.query.priority)
      try {
        const msg = await producer.enqueue(req.body ?? null, { delayMs, priority })
        return reply.code(202).send({ id: msg.id })
      } catch (e) {
        if (ValidationError.is(e)) return reply.code(400).send({ error: e.message })
        throw e
      }
    },
  )

  app.get<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    const id = Number(req.params.id)
    const msg = Number.isSafeInteger(id) && id > 0 ? await store.messages.get(id) : null
    if (!msg || msg.queue !== queue)
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

  app.setErrorHandler((err, _req, reply) => {
    // Fastify's own 4xx (bad JSON, wrong content type) keep their status; pgqrs errors say why.
    const status = (err as { statusCode?: number }).statusCode ?? 500
    reply.code(status).send({ error: PgqrsError.is(err) ? err.message : (err as Error).message })
  })
  return app
}
