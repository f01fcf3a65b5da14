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

/** What the router writes itself on an RFC 8441 stream's behalf, whatever the client sent. */
const GENERATED_FIELDS: ReadonlySet<string> = new Set(['sec-websocket-key', 'sec-websocket-version'])

/**
 * An HTTP/2 request's fields, one entry per field line as headersDistinct
 * gives them for HTTP/1.1 (an Http2ServerRequest has none). Pseudo-headers
 * are not fields (RFC 9113 §8.3); cookie fields, which HTTP/2 may split, are
 * joined with "; " before going to HTTP/1.1 (RFC 9113 §8.2.3).
 */
function streamFields (rawHeaders: readonly string[]): IncomingHttpHeaders {
  const fields: Record<string, string[]> = {}
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase()
    if (name.startsWith(':') || GENERATED_FIELDS.has(name)) continue
    (fields[name] ??= []).push(rawHeaders[i + 1] as string)
  }
  if (fields.cookie !== undefined) fields.cookie = [fields.cookie.join('; ')]
  return fields
}

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
 *
 * `generatedKey` is for an RFC 8441 extended CONNECT (issue #13): the
 * router is then the backend's WebSocket client, so the head is built from
 * the HTTP/2 request's fields and carries the router's own
 * `Sec-WebSocket-Key` and version 13 (RFC 6455 §4.1), which HTTP/2 clients
 * do not send. Protocol, Extensions and Origin still pass through.
 */
export function buildUpstreamHead (req: IncomingMessage, match: RouteMatch, proxies?: TrustedProxies, generatedKey?: string): string {
  const { route } = match
  // headersDistinct keeps repeated headers as separate lines instead of joining them.
  const fields = generatedKey === undefined ? req.headersDistinct as IncomingHttpHeaders : streamFields(req.rawHeaders)
  const headers = buildUpstreamHeaders(req, route, fields, proxies)
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
  if (generatedKey !== undefined) lines.push('Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${generatedKey}`)
  return lines.join('\r\n') + '\r\n\r\n'
}
