import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { GatewayError } from '../forward/gateway-errors.js'
import type { TrustedProxies } from '../forward/trusted-proxies.js'
import { buildUpstreamHeaders, targetHost } from '../forward/upstream-request-headers.js'
import type { RouteMatch } from '../routing/match-route.js'

/**
 * What a field value may hold on the wire (RFC 9110 §5.5, obs-text
 * included), as undici checks on the HTTP path. The head is written as
 * latin1, so a character above U+00FF, which only a route file's header
 * rules can supply, would lose its high byte (U+010A would become LF).
 */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/

/**
 * Step 3. The request head sent to the backend, to be written as latin1:
 * Node decoded the client's header bytes as latin1, so that gives the
 * backend the very bytes the client sent (issue #10: UTF-8 turned a
 * cookie's `\xff\xe9` into `\xc3\xbf\xc3\xa9`). The head holds the request
 * line with the rewritten path (query byte for byte), the client's headers
 * minus hop-by-hop ones (RFC 9110 §7.6.1, via the same helper as HTTP, so
 * headers the client lists in `Connection` go too), the same X-Forwarded-*
 * set as HTTP, and
 * finally `Connection: Upgrade` and `Upgrade: websocket` added back, as
 * Caddy does: the upgrade is the one hop-by-hop intent a tunnel must keep.
 * Sec-WebSocket-*, Origin, Cookie and Host pass unchanged (unless the route
 * has changeOrigin or header rules), so the backend negotiates subprotocols
 * and extensions with the client itself.
 */
export function buildUpstreamHead (req: IncomingMessage, match: RouteMatch, proxies?: TrustedProxies): string {
  // headersDistinct keeps repeated headers as separate lines instead of joining them.
  const { route } = match
  const headers = buildUpstreamHeaders(req, route, req.headersDistinct as IncomingHttpHeaders, proxies)
  if (route.options.changeOrigin && headers.origin !== undefined) {
    // A backend that checks Origin against its own name (RFC 6455 §4.2.1) sees itself.
    headers.origin = `${route.upstream.kind === 'url' && route.upstream.secure ? 'https' : 'http'}://${targetHost(route.upstream)}`
  }
  const lines = [`GET ${match.upstreamPath} HTTP/1.1`]
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    for (const one of Array.isArray(value) ? value : [value]) {
      if (INVALID_VALUE.test(String(one))) throw new GatewayError('bad_gateway', { service: route.service })
      lines.push(`${name}: ${one}`)
    }
  }
  lines.push('Connection: Upgrade', 'Upgrade: websocket')
  return lines.join('\r\n') + '\r\n\r\n'
}
