import type { HeaderMap, HeaderValue } from './hop-headers.js'

export interface ForwardedContext {
  /** The client's IP; undefined for clients on a unix listener. */
  readonly clientAddress: string | undefined
  /** The client is a proxy the router trusts (trusted-proxies.ts): its X-Forwarded-* are kept and extended. */
  readonly trusted: boolean
  readonly proto: 'http' | 'https'
  readonly host: string | undefined
  /** The stripped route prefix without its trailing slash, e.g. `/svc/ui`; undefined when nothing was stripped. */
  readonly prefix: string | undefined
}

/**
 * What an untrusted client may not claim about earlier hops: every
 * X-Forwarded-* (For, Proto, Host, Prefix, Port, Server…), RFC 7239's
 * `Forwarded` and nginx's `X-Real-IP`, any of which a backend may read as
 * the client's address or scheme.
 */
function isForwardingClaim (name: string): boolean {
  return name.startsWith('x-forwarded-') || name === 'forwarded' || name === 'x-real-ip'
}

function firstValue (value: HeaderValue): string | undefined {
  if (value === undefined) return undefined
  return String(Array.isArray(value) ? value[0] : value)
}

/**
 * The de-facto X-Forwarded-* set (issue #10, defect 9). From an untrusted
 * client, whatever it sent is dropped first and the set describes this hop
 * only. From a trusted proxy, X-Forwarded-For is appended to, as nginx's
 * $proxy_add_x_forwarded_for does; its Proto and Host are kept, since that
 * proxy saw the original scheme and name; and its Prefix goes in front of
 * ours (`/tools` + `/svc/ui`), which is where the service really is. Call
 * only after hop-by-hop stripping.
 */
export function addForwardedHeaders (headers: HeaderMap, ctx: ForwardedContext): HeaderMap {
  if (!ctx.trusted) {
    for (const name of Object.keys(headers)) if (isForwardingClaim(name)) delete headers[name]
  }
  if (ctx.clientAddress !== undefined) {
    const prior = headers['x-forwarded-for']
    const chain = prior === undefined ? '' : Array.isArray(prior) ? prior.join(', ') : String(prior)
    headers['x-forwarded-for'] = chain === '' ? ctx.clientAddress : `${chain}, ${ctx.clientAddress}`
  }
  if (!ctx.trusted || headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = ctx.proto
  if (!ctx.trusted || headers['x-forwarded-host'] === undefined) {
    if (ctx.host !== undefined) headers['x-forwarded-host'] = ctx.host
    else delete headers['x-forwarded-host']
  }
  if (ctx.prefix !== undefined) {
    const outer = ctx.trusted ? firstValue(headers['x-forwarded-prefix'])?.trim().replace(/\/+$/, '') ?? '' : ''
    headers['x-forwarded-prefix'] = outer + ctx.prefix
  } else if (!ctx.trusted) {
    delete headers['x-forwarded-prefix']
  }
  return headers
}
