import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RouteTable } from '../routing/route-types.js'
import { ERROR_PAGE_CSP, HTML_STATUSES, renderErrorPage } from './error-page.js'
import { GatewayError, toErrorBody } from './gateway-errors.js'
import { isHttp2Request } from './is-http2-request.js'

function wantsHtml (request: FastifyRequest): boolean {
  const accept = request.headers.accept
  return typeof accept === 'string' && accept.includes('text/html')
}

/**
 * Writes a GatewayError as the client sees it. Browsers get a short page for
 * a 404, 502, 503 or 504, linking to the dashboard (issue #12); everyone
 * else the small JSON body from toErrorBody, where a 404 also lists what is
 * routed. A 400, 417 or 501 closes the connection.
 */
export interface ErrorPageOptions {
  /** Whether the listener serves the dashboard the HTML page links to (issue #12: not on non-loopback listeners). */
  readonly dashboard?: boolean
}

export function sendGatewayError (request: FastifyRequest, reply: FastifyReply, err: GatewayError, table: RouteTable, options: ErrorPageOptions = {}): FastifyReply {
  reply.code(err.status)
  if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter))
  // As nginx does: after a request the router could not read (400), meet (417) or forward faithfully (501), nothing
  // else on the connection is trusted, and listen/serve-in-order.ts runs none of what follows (issue #10).
  // Not on HTTP/2, which has no Connection header (RFC 9113 §8.2.2): the stream ends, the connection carries on.
  if ((err.status === 400 || err.status === 417 || err.status === 501) && !isHttp2Request(request.raw)) reply.header('connection', 'close')
  reply.header('cache-control', 'no-store')
  const prefixes = err.code === 'no_route' ? table.routes.map((r) => r.prefix) : []
  if (HTML_STATUSES.has(err.status) && wantsHtml(request)) {
    reply.header('content-security-policy', ERROR_PAGE_CSP)
    return reply.type('text/html; charset=utf-8').send(renderErrorPage(err, prefixes, options.dashboard ?? true))
  }
  if (err.code === 'no_route') return reply.type('application/json; charset=utf-8').send({ ...toErrorBody(err), routes: prefixes })
  return reply.type('application/json; charset=utf-8').send(toErrorBody(err))
}
