import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { GatewayError } from '../forward/gateway-errors.js'
import { matchRoute, type RouteMatch } from '../routing/match-route.js'
import { parseRequestTarget } from '../routing/parse-request-target.js'
import { checkRequestHost } from '../routing/request-host.js'
import type { RouteStore } from '../routing/route-store.js'
import type { Route } from '../routing/route-types.js'
import type { Handshake } from './check-handshake.js'
import type { TunnelEntry } from './tunnel-registry.js'
import type { UpgradeDeps } from './upgrade-deps.js'

export interface Accepted {
  readonly handshake: Handshake
  readonly match: RouteMatch
  readonly entry: TunnelEntry
}

/** The route an upgrade that was refused asked for, for its counters; null when none matches or the target is malformed. */
export function routeOf (req: IncomingMessage, store: RouteStore): Route | null {
  try {
    return matchRoute(store.current, parseRequestTarget(req.url ?? '/'))?.route ?? null
  } catch {
    return null
  }
}

/**
 * Steps 1–2 and the guards, in the same order for HTTP/1.1 upgrades and
 * RFC 8441 streams (issue #13: "the same guards apply"): shutdown, Host,
 * the protocol's own handshake check, route, Origin, the route's
 * `websocket` switch, a route that is down, then the tunnel limits. Throws
 * (or, waiting for a router-wide lease under --workers, rejects with) the
 * GatewayError the client gets.
 */
export function acceptUpgrade (req: IncomingMessage, client: Duplex, deps: UpgradeDeps, check: (req: IncomingMessage) => Handshake): Accepted | Promise<Accepted> {
  if (!deps.registry.accepting) throw new GatewayError('service_unavailable', { message: 'The router is shutting down.' })
  const hostError = checkRequestHost(req) ?? deps.guard.checkHost(req)
  if (hostError !== null) throw hostError
  const handshake = check(req)
  const match = matchRoute(deps.store.current, parseRequestTarget(req.url ?? '/'))
  if (match === null) throw new GatewayError('no_route')
  const { route } = match
  const originError = deps.guard.checkOrigin(req, route.options.allowedOrigins)
  if (originError !== null) throw originError
  if (!route.options.websocket) {
    throw new GatewayError('forbidden', { service: route.service, message: 'WebSocket is disabled on this route.' })
  }
  if (route.status === 'down') throw new GatewayError('service_unavailable', { service: route.service, retryAfter: 1 })
  const entry = deps.registry.admit(client, req.socket.remoteAddress, route.service, route.key, route.options.maxTunnels, route.prefix)
  // Under --workers the limits are router-wide (issue #14): the primary's lease, one IPC round trip; in one process, nothing to wait for.
  const leasing = deps.registry.lease(entry, route.options.maxTunnels)
  if (leasing === null) return { handshake, match, entry }
  return leasing.then(() => ({ handshake, match, entry }))
}
