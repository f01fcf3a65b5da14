import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import { GatewayError } from '../forward/gateway-errors.js'
import type { ListenAddress } from '../listen/listen-address.js'
import { formatHttpAuthority } from '../routing/parse-host.js'
import { requestHost } from '../routing/request-host.js'
import { isSecure } from '../forward/upstream-request-headers.js'

export interface GuardOptions {
  /** Where the router listens: those hosts are always acceptable in `Host`. */
  readonly listen: readonly ListenAddress[]
  /** Extra `Host` names (port ignored); `*` allows any. */
  readonly allowedHosts: readonly string[]
  /** Extra WebSocket origins such as `https://app.example`; `*` allows any. */
  readonly allowedOrigins: readonly string[]
}

/**
 * Decides which `Host` and `Origin` values the router accepts.
 *
 * A localhost router is reachable from every page the user's browser opens:
 * a page can open `ws://127.0.0.1:9988/…` (browsers do not apply CORS to
 * WebSockets, RFC 6455 §10.2 leaves the Origin check to the server), and DNS
 * rebinding lets a foreign name resolve to 127.0.0.1 so that even plain HTTP
 * reaches the router with that foreign name in `Host`. Hence: `Host` must
 * name this machine's loopback, a listen address, or an allowed host, and a
 * browser's WebSocket must come from the router's own origin or an allowed one.
 */
export class OriginHostGuard {
  readonly #hosts: ReadonlySet<string>
  readonly #anyHost: boolean
  readonly #origins: ReadonlySet<string>
  readonly #anyOrigin: boolean

  constructor (options: GuardOptions) {
    const hosts = new Set<string>()
    for (const address of options.listen) {
      if (address.kind !== 'tcp') continue
      if (address.host === '0.0.0.0' || address.host === '::') {
        // A wildcard listener is reached through this machine's own addresses.
        for (const list of Object.values(networkInterfaces())) for (const nic of list ?? []) hosts.add(normaliseHostName(nic.address))
      } else {
        hosts.add(normaliseHostName(address.host))
      }
    }
    for (const host of options.allowedHosts) hosts.add(normaliseHostName(hostWithoutPort(host)))
    this.#anyHost = hosts.has('*')
    this.#hosts = hosts
    this.#origins = new Set(options.allowedOrigins.map((o) => (o === '*' || o === 'null' ? o : normaliseOrigin(o) ?? o)))
    this.#anyOrigin = this.#origins.has('*')
  }

  /**
   * Unix-listener clients are local processes (browsers cannot reach a unix
   * socket), so `Host` is only checked for TCP clients. A request without
   * `Host` is HTTP/1.0: checkRequestHost refuses HTTP/1.1 without one. The
   * Host read here is the one checkRequestHost parsed (issue #10: one parse
   * for both checks); a value it could not parse is refused here too.
   */
  checkHost (req: IncomingMessage): GatewayError | null {
    if (this.#anyHost || req.socket.remoteAddress === undefined) return null
    if (req.headers.host === undefined) return null
    const host = requestHost(req)
    if (host === null) return new GatewayError('bad_request', { message: 'The Host header is malformed.' })
    const name = normaliseHostName(host.hostname)
    if (isLoopbackName(name) || this.#hosts.has(name)) return null
    return new GatewayError('forbidden', {
      message: 'This Host is not allowed. Start sockrouter with --allowed-host NAME to accept it.'
    })
  }

  /**
   * Clients that send no Origin are not browsers (curl, ws, websocat) and are
   * allowed: the check protects browsers from foreign pages, and a local
   * program could forge any header anyway. `routeOrigins` is a services.d
   * route's own `allowedOrigins` (issue #4), on top of the global list.
   */
  checkOrigin (req: IncomingMessage, routeOrigins: readonly string[] = []): GatewayError | null {
    const origin = req.headers.origin
    if (origin === undefined || this.#anyOrigin || routeOrigins.includes('*')) return null
    if (this.#origins.has(origin.trim()) || routeOrigins.includes(origin.trim())) return null
    const normalised = normaliseOrigin(origin)
    if (normalised !== null) {
      if (this.#origins.has(normalised) || routeOrigins.some((o) => normaliseOrigin(o) === normalised)) return null
      // The router's own origin: the same authority as the Host that checkHost accepted, and the scheme the client
      // used, https on a TLS listener (issue #13). Through URL, so that a default port matches its absence.
      const host = requestHost(req)
      if (host !== null && normalised === normaliseOrigin(`${isSecure(req) ? 'https' : 'http'}://${formatHttpAuthority(host)}`)) return null
    }
    return new GatewayError('forbidden', {
      message: 'This Origin may not open WebSockets here. Start sockrouter with --allowed-origin ORIGIN to accept it.'
    })
  }
}

function hostWithoutPort (host: string): string {
  const value = host.trim()
  if (value.startsWith('[')) {
    const end = value.indexOf(']')
    return end === -1 ? value : value.slice(0, end + 1)
  }
  const colon = value.indexOf(':')
  // More than one colon and no brackets: a bare IPv6 address (as in a listen address).
  return colon === -1 || value.indexOf(':', colon + 1) !== -1 ? value : value.slice(0, colon)
}

/** Lower case, no trailing dot, IPv6 without brackets: for names from the command line and parsed Hosts alike. */
function normaliseHostName (host: string): string {
  let name = host.trim().toLowerCase()
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1)
  if (name.endsWith('.')) name = name.slice(0, -1)
  return name
}

/** RFC 6761 §6.3: `localhost` and `*.localhost` are loopback by definition, as are 127/8 and ::1. */
function isLoopbackName (name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true
  if (isIP(name) === 4) return name.startsWith('127.')
  return name === '::1' || name === '::ffff:127.0.0.1'
}

/** `http://Example.COM:80` → `http://example.com`; null if it is not an http(s) origin. */
function normaliseOrigin (origin: string): string | null {
  try {
    const url = new URL(origin.trim())
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
    return url.origin
  } catch {
    return null
  }
}
