import type { HeaderMap } from './hop-headers.js'

export interface ForwardedContext {
  /** The client's IP; undefined for clients on a unix listener. */
  readonly clientAddress: string | undefined
  readonly proto: 'http' | 'https'
  readonly host: string | undefined
  /** The stripped route prefix without its trailing slash, e.g. `/svc/ui`; undefined when nothing was stripped. */
  readonly prefix: string | undefined
}

/**
 * The de-facto X-Forwarded-* set. X-Forwarded-For is appended to, as nginx's
 * $proxy_add_x_forwarded_for does; Proto, Host and Prefix describe this hop
 * and are overwritten. Call only after hop-by-hop stripping.
 */
export function addForwardedHeaders (headers: HeaderMap, ctx: ForwardedContext): HeaderMap {
  if (ctx.clientAddress !== undefined) {
    const prior = headers['x-forwarded-for']
    const chain = prior === undefined ? '' : Array.isArray(prior) ? prior.join(', ') : String(prior)
    headers['x-forwarded-for'] = chain === '' ? ctx.clientAddress : `${chain}, ${ctx.clientAddress}`
  }
  headers['x-forwarded-proto'] = ctx.proto
  if (ctx.host !== undefined) headers['x-forwarded-host'] = ctx.host
  else delete headers['x-forwarded-host']
  if (ctx.prefix !== undefined) headers['x-forwarded-prefix'] = ctx.prefix
  else delete headers['x-forwarded-prefix']
  return headers
}
