import type { IncomingMessage, ServerResponse } from 'node:http'
import { getRequestListener } from '@hono/node-server'

/** A Node `(req, res)` handler, as `http.createServer`, Express and Fastify's raw objects take it. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void

/**
 * Adapts a fetch-style handler to Node's `(req, res)` with `@hono/node-server` (streams the body both
 * ways, keeps every `Set-Cookie`, and leaves the global `Request`/`Response` alone). Express strips
 * its mount path from `req.url`; the original URL (`req.originalUrl`) is restored first, so the
 * handler sees the full path and its base path still matches.
 */
export function toNodeHandler(fetch: (request: Request) => Promise<Response>): NodeHandler {
  const listener = getRequestListener((request) => fetch(request), { overrideGlobalObjects: false })
  return (req, res) => {
    const original = (req as IncomingMessage & { originalUrl?: unknown }).originalUrl
    if (typeof original === 'string' && original !== req.url) req.url = original
    void listener(req, res)
  }
}
