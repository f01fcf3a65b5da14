import { isIP } from 'node:net'

/** A `Host` value (or an absolute-form target's authority) that passed parseHost. */
export interface HostAuthority {
  /** Lower case; an IPv6 address without its brackets. A trailing dot is kept. */
  readonly hostname: string
  readonly ipv6: boolean
  /** null when no port was given (or the port was empty, as RFC 3986 §3.2.3 allows). */
  readonly port: number | null
}

/**
 * RFC 9110 §7.2: `Host = uri-host [ ":" port ]`, with uri-host an IP-literal
 * in brackets, an IPv4 address or a reg-name (RFC 3986 §3.2.2). The reg-name
 * is narrowed to the unreserved characters (letters, digits, `-._~`): DNS
 * names never need the sub-delims or percent-escapes the grammar also
 * allows, and every extra character is one more way for two parsers to
 * disagree (issue #10: `127.0.0.1:7600@evil.com` read as 127.0.0.1 by the
 * Host check and as evil.com by the Origin check). IPvFuture is refused.
 */
const HOST = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._~-]+))(?::([0-9]{0,5}))?$/

/**
 * Parses a Host field value strictly, once, for every check that needs it;
 * null if it is not `uri-host [ ":" port ]` or the port is above 65535. An
 * empty value is refused: an "http" URI always has a host (RFC 9110 §4.2.1).
 */
export function parseHost (value: string): HostAuthority | null {
  const match = HOST.exec(value)
  if (match === null) return null
  const [, literal, name, portText] = match
  if (literal !== undefined && isIP(literal) !== 6) return null
  let port: number | null = null
  if (portText !== undefined && portText !== '') {
    port = Number(portText)
    if (port > 65535) return null
  }
  return { hostname: (literal ?? name ?? '').toLowerCase(), ipv6: literal !== undefined, port }
}

/** The authority as a WHATWG URL's `host` prints it for an http origin: brackets back on, port 80 dropped. */
export function formatHttpAuthority (host: HostAuthority): string {
  const name = host.ipv6 ? `[${host.hostname}]` : host.hostname
  return host.port === null || host.port === 80 ? name : `${name}:${host.port}`
}
