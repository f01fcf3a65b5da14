import { METHODS } from 'node:http'
import replyFrom from '@fastify/reply-from'
import type { ServerResponse } from 'node:http'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import type { FastifyReplyFromHooks } from '@fastify/reply-from'
import type { RouteStore } from '../routing/route-store.js'
import { matchRoute, type RouteMatch } from '../routing/match-route.js'
import { parseRequestTarget } from '../routing/parse-request-target.js'
import { classifyUpstreamError, GatewayError, innermostCode } from './gateway-errors.js'
import { routeLogFields } from '../logging/route-log-fields.js'
import { applyHeaderRules } from './header-rules.js'
import { stripResponseHopHeaders, type HeaderMap } from './hop-headers.js'
import { isResponseFinished } from './response-finished.js'
import { hasBody } from './has-body.js'
import { rewriteLocation } from './rewrite-location.js'
import type { TrustedProxies } from './trusted-proxies.js'
import { buildUpstreamHeaders } from './upstream-request-headers.js'
import { UPSTREAM_REQUEST, type UpstreamPools, type UpstreamRequest } from './upstream-pools.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once a request is matched, for the access log. */
    routeMatch: RouteMatch | null
    /** The response of a forwarded request; it doubles as the upstream request's abort signal. */
    clientResponse: ServerResponse | null
  }
}

export interface HttpForwarderDeps {
  readonly store: RouteStore
  readonly pools: UpstreamPools
  /** Whose X-Forwarded-* to keep (issue #10); by default only unix-listener clients'. */
  readonly trustedProxies?: TrustedProxies
}

/**
 * reply-from never retries: its default would send a GET that got a 503 ten
 * times, and retry a GET after UND_ERR_SOCKET even when the backend had read
 * it (issue #10, "requests sent twice"). The only retries happen below it, in
 * upstream-attempts.ts, for requests that provably never left.
 */
function retryDelay (): null {
  return null
}

/**
 * Stands in for an AbortSignal: undici accepts any EventEmitter that emits
 * `abort` (api-request.js), and the response itself is one, so a client that
 * leaves before its response is finished aborts the upstream request without
 * an AbortController per request (an EventTarget: createAbortSignal alone was
 * 1.7% of the router's CPU in issue #5's profile, docs/benchmarks.md).
 */
function abortUpstreamIfUnfinished (this: ServerResponse & { aborted?: boolean }): void {
  if (isResponseFinished(this)) return
  // undici reads `aborted` when a request starts: a retry after this point must not go out.
  this.aborted = true
  this.emit('abort')
}

function upstreamHeaders (request: FastifyRequest, proxies: TrustedProxies | undefined): HeaderMap {
  const match = request.routeMatch as RouteMatch
  const headers = buildUpstreamHeaders(request.raw, match.route, request.raw.headers, proxies)
  const upstream: UpstreamRequest = {
    origin: match.route.upstream.origin,
    path: match.upstreamPath,
    signal: request.clientResponse,
    headersTimeoutMs: match.route.options.timeouts.upstreamMs,
    body: hasBody(request.raw) ? request.raw : undefined,
    reqId: request.id,
    route: match.route
  }
  ;(headers as Record<symbol, unknown>)[UPSTREAM_REQUEST] = upstream
  return headers
}

function clientHeaders (headers: HeaderMap, request: FastifyRequest): HeaderMap {
  const route = (request.routeMatch as RouteMatch).route
  const out = applyHeaderRules(stripResponseHopHeaders(headers), route.options.responseHeaders)
  const location = out.location
  if (typeof location === 'string') out.location = rewriteLocation(location, route)
  return out
}

/**
 * reply-from's options for every forwarded request. One object built once:
 * its callbacks find the request's route on `request.routeMatch` instead of
 * closing over it, so a request allocates no options or closures.
 */
function forwardOptions (log: FastifyBaseLogger, proxies: TrustedProxies | undefined): FastifyReplyFromHooks {
  return {
    retryDelay,
    rewriteRequestHeaders: (request) => upstreamHeaders(request as FastifyRequest, proxies) as never,
    rewriteHeaders: (headers, request) => clientHeaders(headers as HeaderMap, request as FastifyRequest) as never,
    onError: (errorReply, { error }) => {
      const route = (errorReply.request.routeMatch as RouteMatch).route
      const failure = classifyUpstreamError(error, route.service)
      log[failure.code === 'client_closed' ? 'debug' : 'warn']({
        reqId: errorReply.request.id,
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
  }
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

  // Fastify never reads a body: every method is registered without one, so
  // no content-type parser runs and no Content-Type, however odd, is refused
  // (issue #10: `a`, empty or `;;;` got 400). The body goes to the backend as
  // the raw request stream (upstreamHeaders), unread and unlimited; reply-from
  // would drop it on GET and HEAD.
  for (const method of METHODS) {
    if (method !== 'CONNECT') app.addHttpMethod(method, { hasBody: false, overrideExisting: true })
  }
  app.decorateRequest('routeMatch', null)
  app.decorateRequest('clientResponse', null)
  const options = forwardOptions(app.log, deps.trustedProxies)

  app.route({
    method: app.supportedMethods.filter((m) => m !== 'CONNECT'),
    url: '/*',
    exposeHeadRoute: false,
    // reply-from logs every upstream failure at warn with the whole error
    // object (socket paths, DOMException dumps); onError below writes one
    // compact line instead.
    logLevel: 'error',
    handler (request, reply) {
      const target = parseRequestTarget(request.raw.url ?? '/')
      const match = matchRoute(deps.store.current, target)
      if (match === null) throw new GatewayError('no_route')
      request.routeMatch = match
      const { route } = match
      const { stripPrefix, rewrite } = route.options
      if (match.atPrefix && stripPrefix && rewrite.endsWith('/') && (request.method === 'GET' || request.method === 'HEAD')) {
        // As nginx does for a prefix location (issue #10, defect 7): a page
        // served at `/svc/ui` resolves its relative links outside the prefix.
        // Only where the slash leaves the backend's path unchanged (`/`).
        return reply.code(301).header('location', `${target.rawPath}/${target.query}`).send()
      }
      const service = route.service
      if (route.status === 'down') {
        // Known but not running (issue #4): the client may retry shortly.
        throw new GatewayError('service_unavailable', { service, retryAfter: 1 })
      }
      request.clientResponse = reply.raw
      // `on`, not `once`: a response closes once, and once() wraps the listener anew for every request.
      reply.raw.on('close', abortUpstreamIfUnfinished)
      return reply.from('/', options)
    }
  })
}
