import { performance } from 'node:perf_hooks'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** nginx's 499: the client closed the connection before the response head was sent. */
const CLIENT_CLOSED = 499

function logRequest (request: FastifyRequest, reply: FastifyReply, startedAt: number, bytesAtStart: number): void {
  const res = reply.raw
  const route = request.routeMatch?.route
  const finished = res.writableFinished
  request.log.info({
    method: request.method,
    url: request.url,
    service: route?.service,
    socket: route?.upstream.socketName,
    status: res.headersSent ? res.statusCode : CLIENT_CLOSED,
    ms: Math.round((performance.now() - startedAt) * 100) / 100,
    bytes: (request.raw.socket?.bytesWritten ?? bytesAtStart) - bytesAtStart,
    ...(finished ? {} : { aborted: true })
  }, 'request')
}

/**
 * One line per request with stable fields: service, socket (its name in the
 * socket dir, never an absolute path), status, ms and bytes (written to the
 * client for this response, head included; HTTP/1.1 answers one request at a
 * time per connection, so the socket counter's delta is this response).
 * Written on the response's `close`, which, unlike Fastify's onResponse,
 * also fires when the client leaves mid-stream (an SSE tab closed).
 */
export function registerAccessLog (app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const startedAt = performance.now()
    const bytesAtStart = request.raw.socket?.bytesWritten ?? 0
    reply.raw.once('close', () => logRequest(request, reply, startedAt, bytesAtStart))
    done()
  })
}
