import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { GatewayError } from '../forward/gateway-errors.js'
import type {} from '../forward/http-forwarder.js'
import { RESERVED_SERVICE } from '../routing/route-types.js'
import { NO_ROUTE_LABEL, ROUTER_LABEL } from './route-counters.js'
import type { RequestRecorder } from './router-metrics.js'
import { registerRequestTrace, type RequestTrace, type TraceObserver } from '../logging/request-trace.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The GatewayError code the request was answered with, for the metrics (issue #12); null when none. */
    gatewayFailure: string | null
  }
}

/** nginx's 499, from the one status map: the client left before the response head was sent. */
const CLIENT_CLOSED = new GatewayError('client_closed').status
const ROUTER_PATH = `/${RESERVED_SERVICE}`

/**
 * Request body bytes: the declared Content-Length, or for a chunked body
 * what the connection read while the request was open (its framing
 * included; what arrived with the head is not seen).
 */
function bodyBytes (req: IncomingMessage, socket: Socket, readAtStart: number): number {
  const length = req.headers['content-length']
  if (length !== undefined) return Number(length) || 0
  return req.headers['transfer-encoding'] === undefined || readAtStart < 0 ? 0 : Math.max(0, socket.bytesRead - readAtStart)
}

/**
 * Response bytes: what the connection wrote while the request was open. An
 * HTTP/2 socket carries many streams at once, and Node's proxy for it throws
 * once the session is gone (issue #13), so there only the declared
 * Content-Length counts.
 */
function sentBytes (reply: FastifyReply, socket: Socket, writtenAtStart: number): number {
  if (writtenAtStart >= 0) return socket.bytesWritten - writtenAtStart
  return Number(reply.raw.getHeader('content-length') ?? 0) || 0
}

function finish (recorder: RequestRecorder, request: FastifyRequest, reply: FastifyReply, trace: RequestTrace): void {
  const res = reply.raw
  const prefix = request.routeMatch?.route.prefix ?? null
  // Only unmatched requests read routeOptions (it builds an object): the route's own pattern, never the request path.
  const label = prefix ?? (request.routeOptions.url?.startsWith(ROUTER_PATH) === true ? ROUTER_LABEL : NO_ROUTE_LABEL)
  const status = res.headersSent ? res.statusCode : CLIENT_CLOSED
  const failure = request.gatewayFailure ?? (status === CLIENT_CLOSED ? 'client_closed' : null)
  recorder.recordRequest(label, prefix, request.method, request.url, status, trace.startedAt, performance.now(),
    bodyBytes(request.raw, trace.socket, trace.readAtStart), sentBytes(reply, trace.socket, trace.writtenAtStart), failure)
}

/**
 * The request path's metrics (issue #12): counted on the response's `close`
 * (logging/request-trace.ts), which also fires when the client leaves
 * mid-stream, as the access log does. The onError hook only runs for
 * requests answered with an error, and keeps its code.
 */
export function requestMetricsObserver (app: FastifyInstance, recorder: RequestRecorder): TraceObserver {
  app.decorateRequest('gatewayFailure', null)
  app.addHook('onError', (request, _reply, error, done) => {
    // As server.ts's error handler classifies what is not a GatewayError.
    const statusCode = (error as { statusCode?: unknown }).statusCode
    request.gatewayFailure = error instanceof GatewayError
      ? error.code
      : typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500 ? 'bad_request' : 'internal_error'
    done()
  })
  return (request, reply, trace) => finish(recorder, request, reply, trace)
}

/** The metrics alone, with a trace hook of their own (bench/metrics-hook-cost.ts drives this). */
export function registerRequestMetrics (app: FastifyInstance, recorder: RequestRecorder): void {
  registerRequestTrace(app, [requestMetricsObserver(app, recorder)])
}
