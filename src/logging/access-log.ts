import { performance } from 'node:perf_hooks'
import type { Socket } from 'node:net'
import { GatewayError } from '../forward/gateway-errors.js'
import { isHttp2Request } from '../forward/is-http2-request.js'
import { isResponseFinished } from '../forward/response-finished.js'
import { routeLogFields } from './route-log-fields.js'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** nginx's 499, from the one status map: the client closed the connection before the response head was sent. */
const CLIENT_CLOSED = new GatewayError('client_closed').status

function logRequest (log: FastifyBaseLogger, request: FastifyRequest, reply: FastifyReply, socket: Socket, remote: string | undefined, startedAt: number, bytesAtStart: number): void {
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
    remote,
    ua: headers['user-agent'],
    referer: headers.referer,
    ...routeLogFields(route),
    status: res.headersSent ? res.statusCode : CLIENT_CLOSED,
    ms: Math.round((performance.now() - startedAt) * 100) / 100,
    bytes: bytesAtStart < 0 ? undefined : socket.bytesWritten - bytesAtStart,
    ...(finished ? {} : { aborted: true })
  }, 'request')
}

/**
 * One line per request with stable fields: service, socket (its name in the
 * socket dir, never an absolute path), status, ms and bytes (written to the
 * client for this response, head included; HTTP/1.1 answers one request at a
 * time per connection, so the socket counter's delta is this response; none
 * for HTTP/2).
 * Written on the response's `close`, which, unlike Fastify's onResponse,
 * also fires when the client leaves mid-stream (an SSE tab closed). It uses
 * the app logger: the forwarder route's own logger is quietened (see
 * http-forwarder.ts). `remote` is the peer's IP (absent on a unix listener),
 * `ua` and `referer` the request's headers, absent when it sent none (issue
 * #12); pino leaves undefined fields out of the line.
 */
export function registerAccessLog (app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const startedAt = performance.now()
    // Held here because Node detaches req.socket and res.socket before `close`.
    const socket = request.raw.socket
    // HTTP/2 multiplexes streams on one socket, so its counter says nothing about one response; and once the session
    // is gone, Node's proxy for that socket throws on every read (issue #13). No bytes field then.
    const bytesAtStart = isHttp2Request(request.raw) ? -1 : socket.bytesWritten
    // Read now: once the socket is closed, Node can no longer ask for its peer. The socket caches it after the first request.
    const remote = socket.remoteAddress
    reply.raw.once('close', () => logRequest(app.log, request, reply, socket, remote, startedAt, bytesAtStart))
    done()
  })
}
