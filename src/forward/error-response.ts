import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RouteTable } from '../routing/route-types.js'
import { GatewayError, toErrorBody } from './gateway-errors.js'

function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function wantsHtml (request: FastifyRequest): boolean {
  const accept = request.headers.accept
  return typeof accept === 'string' && accept.includes('text/html')
}

function notFoundPage (prefixes: readonly string[]): string {
  const items = prefixes.map((p) => `<li><a href="${escapeHtml(p)}">${escapeHtml(p)}</a></li>`).join('')
  return '<!doctype html><html><head><meta charset="utf-8"><title>404 · sockrouter</title></head>' +
    '<body><h1>No service is routed here</h1>' +
    (prefixes.length === 0 ? '<p>No sockets are routed yet.</p>' : `<p>Routed prefixes:</p><ul>${items}</ul>`) +
    '</body></html>'
}

/**
 * Writes a GatewayError as the client sees it. A 404 lists what is routed, as
 * JSON or, for browsers, as a short page; everything else is the small JSON
 * body from toErrorBody. A 400, 417 or 501 closes the connection.
 */
export function sendGatewayError (request: FastifyRequest, reply: FastifyReply, err: GatewayError, table: RouteTable): FastifyReply {
  reply.code(err.status)
  if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter))
  // As nginx does: after a request the router could not read (400), meet (417) or forward faithfully (501), nothing
  // else on the connection is trusted, and listen/serve-in-order.ts runs none of what follows (issue #10).
  if (err.status === 400 || err.status === 417 || err.status === 501) reply.header('connection', 'close')
  reply.header('cache-control', 'no-store')
  if (err.code === 'no_route') {
    const prefixes = table.routes.map((r) => r.prefix)
    if (wantsHtml(request)) return reply.type('text/html; charset=utf-8').send(notFoundPage(prefixes))
    return reply.type('application/json; charset=utf-8').send({ ...toErrorBody(err), routes: prefixes })
  }
  return reply.type('application/json; charset=utf-8').send(toErrorBody(err))
}
