import type { IncomingHttpHeaders } from 'node:http'

export type HeaderValue = string | string[] | number | undefined
export type HeaderMap = Record<string, HeaderValue>

/**
 * RFC 9110 §7.6.1: these describe one connection, not the message, and must
 * not be forwarded. Caddy and reply-from use the same list; Proxy-Authorization
 * is included because credentials for this hop must not reach the backend.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate'
])

const NONE: readonly string[] = []

function joinValue (value: HeaderValue): string {
  if (value === undefined) return ''
  return Array.isArray(value) ? value.join(',') : String(value)
}

/** Lower-cased header names listed in `Connection` (RFC 9110 §7.6.1). */
export function connectionListedHeaders (headers: IncomingHttpHeaders | HeaderMap): readonly string[] {
  const connection = headers.connection
  // The usual value names nothing beyond the fixed hop-by-hop list.
  if (connection === undefined || connection === 'keep-alive') return NONE
  const names: string[] = []
  for (const token of joinValue(connection).split(',')) {
    const name = token.trim().toLowerCase()
    if (name !== '') names.push(name)
  }
  return names
}

/** True if a comma-separated header value holds `token` (case-insensitive). */
export function hasToken (value: HeaderValue, token: string): boolean {
  return joinValue(value).split(',').some((t) => t.trim().toLowerCase() === token)
}

/**
 * Returns a copy without hop-by-hop headers. Headers named in `Connection`
 * go first, then the fixed list, and only afterwards may the caller add its
 * own: a client listing `X-Forwarded-For` in `Connection` cannot remove the
 * proxy's value. `TE: trailers` survives (RFC 9110 §10.1.4) because it is the
 * one TE value that is about the message, not the hop.
 */
export function stripHopHeaders (headers: IncomingHttpHeaders | HeaderMap, alsoDrop?: ReadonlySet<string>): HeaderMap {
  const listed = connectionListedHeaders(headers)
  const out: HeaderMap = {}
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (value === undefined) continue
    const lower = name.toLowerCase()
    // An HTTP/2 request's pseudo-headers (RFC 9113 §8.3) describe this hop's stream, as Connection does a connection.
    if (lower.charCodeAt(0) === 0x3a || (listed.length > 0 && listed.includes(lower)) || alsoDrop?.has(lower) === true) continue
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'te' && hasToken(value, 'trailers')) out.te = 'trailers'
      continue
    }
    out[lower] = value
  }
  return out
}

/**
 * Request-only extras. `Expect` was already answered with a 100 Continue
 * in the request's turn (listen/serve-in-order.ts; RFC 9110 §10.1.1 lets a
 * proxy do that), and undici throws on it, which would turn a plain curl
 * upload of more than 1 MiB into a 500.
 */
const REQUEST_ONLY_DROP: ReadonlySet<string> = new Set(['expect'])

export function stripRequestHopHeaders (headers: IncomingHttpHeaders): HeaderMap {
  return stripHopHeaders(headers, REQUEST_ONLY_DROP)
}

export function stripResponseHopHeaders (headers: HeaderMap): HeaderMap {
  return stripHopHeaders(headers)
}
