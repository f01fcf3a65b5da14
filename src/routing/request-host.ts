import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../forward/gateway-errors.js'
import { isHttp2Request } from '../forward/is-http2-request.js'
import { parseHost, type HostAuthority } from './parse-host.js'
import { adoptAbsoluteFormAuthority } from './parse-request-target.js'

const PARSED_HOST = Symbol('sockrouter.parsedHost')

type HostRequest = Pick<IncomingMessage, 'headers' | 'rawHeaders' | 'httpVersionMajor' | 'httpVersionMinor' | 'url'> & {
  [PARSED_HOST]?: HostAuthority | null
}

function refuse (message: string): GatewayError {
  return new GatewayError('bad_request', { message })
}

/** Host field lines as received: Node keeps only the first in `headers.host`. */
function countHostLines (rawHeaders: readonly string[]): number {
  let count = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string
    if (name.length === 4 && name.toLowerCase() === 'host') count++
  }
  return count
}

/**
 * HTTP/2 names the target in `:authority`, which a client must send instead
 * of Host (RFC 9113 §8.3.1); a Host beside it must name the same thing. From
 * here on it is the request's Host, for the Host guard, X-Forwarded-Host and
 * the backend's own Host (issue #13). A request with neither is refused: it
 * is not an HTTP/1.0 client, and must not pass the DNS-rebinding guard as one.
 */
function adoptAuthority (req: HostRequest): GatewayError | null {
  const authority = req.headers[':authority']
  const host = req.headers.host
  if (typeof authority !== 'string' || authority === '') {
    return host === undefined ? refuse('An HTTP/2 request needs :authority or a Host header.') : null
  }
  if (host !== undefined && host.toLowerCase() !== authority.toLowerCase()) return refuse('The Host header does not match :authority.')
  req.headers.host = authority
  if (host === undefined) (req.rawHeaders as string[]).push('host', authority)
  return null
}

/**
 * The one check of a request's Host, for plain HTTP and WebSocket alike,
 * before any other step reads it. RFC 9112 §3.2: an HTTP/1.1 request without
 * Host, with more than one Host line, or with an invalid one gets 400 (issue
 * #10, defects 3 and 11; the router answers instead of Node's empty 400, see
 * `requireHostHeader` in listen/serve-in-order.ts). An absolute-form target's
 * authority then replaces Host (RFC 9112 §3.2.2) and is held to the same
 * grammar, userinfo included (RFC 9110 §4.2.4 treats it as an error). The
 * parsed result stays on the request for requestHost.
 */
export function checkRequestHost (req: HostRequest): GatewayError | null {
  if (isHttp2Request(req)) {
    const failure = adoptAuthority(req)
    if (failure !== null) return failure
  }
  const lines = countHostLines(req.rawHeaders)
  if (lines > 1) return refuse('The request has more than one Host header.')
  let parsed: HostAuthority | null = null
  if (lines === 1) {
    parsed = parseHost(req.headers.host ?? '')
    if (parsed === null) return refuse('The Host header is malformed.')
  } else if (req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1)) {
    // Anything past 1.0 needs a Host, an HTTP/1 line claiming `HTTP/2.0` included: only 1.0 may skip the Host guard.
    return refuse('An HTTP/1.1 request needs a Host header.')
  }
  const received = req.headers.host
  adoptAbsoluteFormAuthority(req)
  const adopted = req.headers.host
  if (adopted !== received && adopted !== undefined) {
    parsed = parseHost(adopted)
    if (parsed === null) return refuse('The authority of the request target is malformed.')
  }
  req[PARSED_HOST] = parsed
  return null
}

/**
 * The parsed Host of a request, the same value checkRequestHost accepted;
 * null when the request has none (HTTP/1.0) or an invalid one.
 */
export function requestHost (req: HostRequest): HostAuthority | null {
  const cached = req[PARSED_HOST]
  if (cached !== undefined) return cached
  const value = req.headers.host
  const parsed = value === undefined ? null : parseHost(value)
  req[PARSED_HOST] = parsed
  return parsed
}
