import { performance } from 'node:perf_hooks'
import { GatewayError } from '../forward/gateway-errors.js'
import { isHttp2Request } from '../forward/is-http2-request.js'
import { isResponseFinished } from '../forward/response-finished.js'
import { routeLogFields } from './route-log-fields.js'
import { registerRequestTrace, type RequestTrace, type TraceObserver } from './request-trace.js'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** nginx's 499, from the one status map: the client closed the connection before the response head was sent. */
const CLIENT_CLOSED = new GatewayError('client_closed').status

function logRequest (log: FastifyBaseLogger, request: FastifyRequest, reply: FastifyReply, trace: RequestTrace): void {
  const res = reply.raw
  const route = request.routeMatch?.route
  const finished = isResponseFinished(res)
  const headers = request.headers
  log.info({
    reqId: request.id,
    method: request.method,
    url: request.url,
    // As nginx's $server_protocol: which protocol carried it, `2` for HTTP/2 as on the tunnel lines (issue #13).
    http: isHttp2Request(request.raw) ? '2' : request.raw.httpVersion,
    remote: trace.remote,
    ua: headers['user-agent'],
    referer: headers.referer,
    ...routeLogFields(route),
    status: res.headersSent ? res.statusCode : CLIENT_CLOSED,
    ms: Math.round((performance.now() - trace.startedAt) * 100) / 100,
    bytes: trace.writtenAtStart < 0 ? undefined : trace.socket.bytesWritten - trace.writtenAtStart,
    ...(finished ? {} : { aborted: true })
  }, 'request')
}

/**
 * One line per request with stable fields: service, socket (its name in the
 * socket dir, never an absolute path), status, ms and bytes (written to the
 * client for this response, head included; HTTP/1.1 answers one request at a
 * time per connection, so the socket counter's delta is this response; none
 * for HTTP/2).
 * Written on the response's `close` (logging/request-trace.ts), so a client
 * that leaves mid-stream gets its line too. It uses the app logger: the
 * forwarder route's own logger is quietened (see http-forwarder.ts).
 * `remote` is the peer's IP (absent on a unix listener), `ua` and `referer`
 * the request's headers, absent when it sent none (issue #12); pino leaves
 * undefined fields out of the line.
 */
export function accessLogObserver (log: FastifyBaseLogger): TraceObserver {
  return (request, reply, trace) => logRequest(log, request, reply, trace)
}

/** The access log alone, for an app that observes nothing else (the admin listener). */
export function registerAccessLog (app: FastifyInstance): void {
  registerRequestTrace(app, [accessLogObserver(app.log)])
}
