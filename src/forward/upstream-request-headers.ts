import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Route, Upstream } from '../routing/route-types.js'
import { addForwardedHeaders } from './forwarded-headers.js'
import { applyHeaderRules } from './header-rules.js'
import { stripRequestHopHeaders, type HeaderMap } from './hop-headers.js'
import { NO_TRUSTED_PROXIES, type TrustedProxies } from './trusted-proxies.js'

/** The `Host` a target expects when the route has `changeOrigin`. */
export function targetHost (upstream: Upstream): string {
  return upstream.kind === 'url' ? upstream.targetHost : 'localhost'
}

/** A request that came over TLS: an https:// listener, HTTP/1.1 or HTTP/2 (issue #13; h2's req.socket proxies the TLS socket). */
export function isSecure (req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true
}

/**
 * The request headers a backend gets, for plain HTTP and WebSocket alike:
 * hop-by-hop headers dropped first (RFC 9110 §7.6.1), then X-Forwarded-*
 * (the client's own kept only from a trusted proxy), then the route's
 * `changeOrigin` and `requestHeaders` rules. `headers` defaults to the
 * request's own; the upgrade path passes headersDistinct to keep repeated
 * headers on separate lines.
 */
export function buildUpstreamHeaders (req: IncomingMessage, route: Route, headers: IncomingHttpHeaders = req.headers, proxies: TrustedProxies = NO_TRUSTED_PROXIES): HeaderMap {
  const out = stripRequestHopHeaders(headers)
  // Exactly the Host that checkRequestHost accepted (an absolute-form target's authority, if any),
  // never a raw line from headersDistinct (issue #10, defect 3).
  if (req.headers.host !== undefined) out.host = req.headers.host
  const clientAddress = req.socket.remoteAddress
  addForwardedHeaders(out, {
    clientAddress,
    trusted: proxies.trusts(clientAddress),
    proto: isSecure(req) ? 'https' : 'http',
    host: req.headers.host,
    prefix: route.options.stripPrefix ? route.forwardedPrefix : undefined
  })
  // An HTTP/1.0 client may send no Host; the backend still gets one (RFC 9112 §3.2), not undici's internal pool name.
  if (route.options.changeOrigin || out.host === undefined) out.host = targetHost(route.upstream)
  return applyHeaderRules(out, route.options.requestHeaders)
}
