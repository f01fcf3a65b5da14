import { METHODS } from 'node:http'
import replyFrom from '@fastify/reply-from'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RouteStore } from '../routing/route-store.js'
import { matchRoute, type RouteMatch } from '../routing/match-route.js'
import { parseRequestTarget } from '../routing/parse-request-target.js'
import { classifyUpstreamError, GatewayError, innermostCode } from './gateway-errors.js'
import { routeLogFields } from '../logging/route-log-fields.js'
import type { Route } from '../routing/route-types.js'
import { applyHeaderRules } from './header-rules.js'
import { stripResponseHopHeaders, type HeaderMap } from './hop-headers.js'
import { rewriteLocation } from './rewrite-location.js'
import { buildUpstreamHeaders } from './upstream-request-headers.js'
import { UPSTREAM_REQUEST, type UpstreamPools, type UpstreamRequest } from './upstream-pools.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once a request is matched, for the access log. */
    routeMatch: RouteMatch | null
  }
}

export interface HttpForwarderDeps {
  readonly store: RouteStore
  readonly pools: UpstreamPools
}

/** Idempotent methods (RFC 9110 §9.2.2) that are safe to send twice when they carry no body. */
const IDEMPOTENT_RETRY = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * A stale keep-alive connection the backend closed just as we reused it fails
 * with UND_ERR_SOCKET; one immediate retry of a body-less idempotent request
 * hides that race. Everything else, including a backend 503, reaches the
 * client once: reply-from's default would retry a GET that got 503 ten times.
 */
function retryDelay ({ err, req, attempt }: { err: Error | null, req: { method: string, body?: unknown }, attempt: number }): number | null {
  const code = (err as { code?: string } | null)?.code
  if (attempt === 0 && code === 'UND_ERR_SOCKET' && IDEMPOTENT_RETRY.has(req.method) && !req.body) return 1
  return null
}

function upstreamHeaders (request: FastifyRequest, match: RouteMatch, signal: AbortSignal): HeaderMap {
  const headers = buildUpstreamHeaders(request.raw, match.route)
  const upstream: UpstreamRequest = {
    origin: match.route.upstream.origin,
    path: match.upstreamPath,
    signal,
    headersTimeoutMs: match.route.options.timeouts.upstreamMs
  }
  Object.defineProperty(headers, UPSTREAM_REQUEST, { value: upstream, enumerable: true })
  return headers
}

function clientHeaders (headers: HeaderMap, route: Route): HeaderMap {
  const out = applyHeaderRules(stripResponseHopHeaders(headers), route.options.responseHeaders)
  const location = out.location
  if (typeof location === 'string') out.location = rewriteLocation(location, route)
  return out
}

function abortWhenClientLeaves (reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort()
  })
  return controller.signal
}

/**
 * Plain HTTP goes through reply-from to the route's socket or URL, streamed
 * both ways. Upgrade requests never get here: Node hands them to the server's
 * `upgrade` event.
 */
export async function registerHttpForwarder (app: FastifyInstance, deps: HttpForwarderDeps): Promise<void> {
  await app.register(replyFrom, {
    base: 'http://upstream.invalid',
    undici: deps.pools as never,
    disableRequestLogging: true
  })

  // Bodies pass through as the raw stream: no size limit, no JSON re-parse.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload))

  for (const method of METHODS) {
    if (method === 'CONNECT' || app.supportedMethods.includes(method)) continue
    app.addHttpMethod(method, { hasBody: true })
  }
  app.decorateRequest('routeMatch', null)

  app.route({
    method: app.supportedMethods.filter((m) => m !== 'CONNECT'),
    url: '/*',
    exposeHeadRoute: false,
    // reply-from logs every upstream failure at warn with the whole error
    // object (socket paths, DOMException dumps); onError below writes one
    // compact line instead.
    logLevel: 'error',
    handler (request, reply) {
      const match = matchRoute(deps.store.current, parseRequestTarget(request.raw.url ?? '/'))
      if (match === null) throw new GatewayError('no_route')
      request.routeMatch = match
      const { route } = match
      const service = route.service
      if (route.status === 'down') {
        // Known but not running (issue #4): the client may retry shortly.
        throw new GatewayError('service_unavailable', { service, retryAfter: 1 })
      }
      const signal = abortWhenClientLeaves(reply)
      return reply.from('/', {
        retryDelay,
        rewriteRequestHeaders: () => upstreamHeaders(request, match, signal) as never,
        rewriteHeaders: (headers) => clientHeaders(headers, route) as never,
        onError: (errorReply, { error }) => {
          const failure = classifyUpstreamError(error, service)
          app.log[failure.code === 'client_closed' ? 'debug' : 'warn']({
            reqId: request.id,
            ...routeLogFields(route),
            error: failure.code,
            cause: innermostCode(error)
          }, 'upstream request failed')
          if (failure.code === 'client_closed') {
            errorReply.code(failure.status)
            errorReply.raw.destroy()
            return
          }
          errorReply.send(failure)
        }
      })
    }
  })
}
