import type { IncomingMessage } from 'node:http'
import { connect, isIP, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { performance } from 'node:perf_hooks'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { classifyUpstreamError, GatewayError, innermostCode } from '../forward/gateway-errors.js'
import type { TrustedProxies } from '../forward/trusted-proxies.js'
import type { RouteHealth } from '../health/route-health.js'
import { matchRoute, type RouteMatch } from '../routing/match-route.js'
import { parseRequestTarget } from '../routing/parse-request-target.js'
import { checkRequestHost } from '../routing/request-host.js'
import type { RouteStore } from '../routing/route-store.js'
import type { Route, Upstream } from '../routing/route-types.js'
import { routeLogFields } from '../logging/route-log-fields.js'
import type { UpgradeListener } from '../server.js'
import { buildUpstreamHead } from './build-upstream-head.js'
import { checkHandshake, type Handshake } from './check-handshake.js'
import { judgeUpgradeResponse } from './check-upgrade-response.js'
import { refuseUpgrade } from './close-client.js'
import type { OriginHostGuard } from './origin-host-guard.js'
import { readResponseHead } from './read-response-head.js'
import { relayResponse } from './relay-response.js'
import { spliceTunnel, type SpliceInput } from './splice-tunnel.js'
import type { TunnelEntry, TunnelRegistry } from './tunnel-registry.js'
import type { OpenTunnel, TunnelStats } from './tunnel-stats.js'
import { watchPendingClient } from './watch-pending-client.js'

export interface UpgradeDeps {
  readonly store: RouteStore
  readonly registry: TunnelRegistry
  readonly stats: TunnelStats
  readonly guard: OriginHostGuard
  readonly logger: Logger
  readonly connectTimeoutMs: number
  /** From connect to a complete response head. */
  readonly handshakeTimeoutMs: number
  /** 0 = tunnels may stay quiet forever. */
  readonly idleTimeoutMs: number
  /** Whose X-Forwarded-* to keep (issue #10); by default only unix-listener clients'. */
  readonly trustedProxies?: TrustedProxies
  /** Passive health (issue #12): a handshake answered or refused tells its route's record. */
  readonly health?: RouteHealth
}

interface Accepted {
  readonly handshake: Handshake
  readonly match: RouteMatch
  readonly entry: TunnelEntry
}

/** The route an upgrade that was refused asked for, for its counters; null when none matches or the target is malformed. */
function routeOf (req: IncomingMessage, store: RouteStore): Route | null {
  try {
    return matchRoute(store.current, parseRequestTarget(req.url ?? '/'))?.route ?? null
  } catch {
    return null
  }
}

/** Steps 1–2 and the guards; throws the GatewayError the client gets. */
function accept (req: IncomingMessage, client: Duplex, deps: UpgradeDeps): Accepted {
  if (!deps.registry.accepting) throw new GatewayError('service_unavailable', { message: 'The router is shutting down.' })
  const hostError = checkRequestHost(req) ?? deps.guard.checkHost(req)
  if (hostError !== null) throw hostError
  const handshake = checkHandshake(req)
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
  return { handshake, match, entry }
}

/** Step 4's socket: the route's unix socket, or its URL target over TCP (TLS for https). */
function openBackend (upstream: Upstream): Socket {
  if (upstream.kind === 'unix') return connect(upstream.socketPath)
  const url = new URL(upstream.targetOrigin)
  const port = Number(url.port !== '' ? url.port : upstream.secure ? 443 : 80)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  // Nagle off, as undici does for HTTP and Node's server does for the client
  // side: a small WebSocket frame must not wait for the previous one's ACK.
  const socket = upstream.secure ? tlsConnect({ host, port, servername: isIP(host) === 0 ? host : undefined }) : connect({ host, port })
  return socket.setNoDelay(true)
}

/** Step 4: resolves once connected; 502 if refused or missing, 504 after the connect timeout. */
function connectBackend (backend: Socket, timeoutMs: number, service: string, secure: boolean): Promise<void> {
  const connected = secure ? 'secureConnect' : 'connect'
  return new Promise((resolve, reject) => {
    // Listeners go once settled: a tunnel lives long, and each would hold this promise's closures.
    const settle = (failure: GatewayError | null): void => {
      clearTimeout(timer)
      backend.off(connected, onConnect)
      backend.off('error', onError)
      backend.off('close', onClose)
      if (failure === null) resolve()
      else reject(failure)
    }
    const onConnect = (): void => settle(null)
    const onError = (err: Error): void => settle(classifyUpstreamError(err, service))
    const onClose = (): void => settle(new GatewayError('bad_gateway', { service }))
    // 0 means no timeout, as it does for undici on the HTTP path.
    const timer = timeoutMs > 0 ? setTimeout(() => settle(new GatewayError('gateway_timeout', { service })), timeoutMs) : undefined
    backend.once(connected, onConnect)
    backend.once('error', onError)
    backend.once('close', onClose)
  })
}

/**
 * The `upgrade` event of every listener (issue #3), as a short list of steps:
 * check the request, resolve the route, build the upstream head, connect,
 * wait for the 101 and check it, then splice. Upgrades never touch
 * reply-from. Until a 101 is accepted nothing the client sent after its
 * request (Node's `head`, or later bytes) can reach the backend: it is held
 * in a bounded buffer (watch-pending-client.ts), then the kernel's socket
 * buffer and TCP flow control bound what waits.
 */
export function createUpgradeHandler (deps: UpgradeDeps): UpgradeListener {
  const log = deps.logger
  // One child logger per route, not per tunnel: each would live as long as its tunnel.
  const routeLogs = new WeakMap<Route, Logger>()
  const logFor = (route: Route): Logger => {
    let child = routeLogs.get(route)
    if (child === undefined) {
      child = log.child(routeLogFields(route))
      routeLogs.set(route, child)
    }
    return child
  }
  return (req, client, head) => {
    client.on('error', (err: NodeJS.ErrnoException) => log.debug({ err: { code: err.code } }, 'websocket client socket error'))
    client.pause()
    if ('setTimeout' in client) (client as Socket).setTimeout(0)

    let accepted: Accepted
    try {
      accepted = accept(req, client, deps)
    } catch (err) {
      const failure = err instanceof GatewayError ? err : new GatewayError('internal_error')
      if (failure.code === 'internal_error') log.error({ err }, 'unexpected error in upgrade')
      const route = routeOf(req, deps.store)
      // A route that is down fails because of its service, as on the HTTP path (issue #12).
      deps.stats.refuse({ prefix: route?.prefix ?? null, result: 'refused', failure, url: req.url ?? '' }, failure.code === 'service_unavailable' && route?.status === 'down')
      log.info({ url: req.url, status: failure.status, error: failure.code }, 'websocket refused')
      refuseUpgrade(client, failure)
      return
    }
    void tunnel(req, client, head, accepted, deps, logFor(accepted.match.route))
  }
}

/**
 * Step 6 and the closing log line. Not part of `tunnel`: an async function
 * keeps its whole frame (the request, the parsed heads) alive while it
 * awaits, and a tunnel may stay open for days, so only what the closing line
 * needs is held here (issue #5: RSS per idle tunnel).
 */
function openTunnel (input: SpliceInput, opened: OpenTunnel, entry: TunnelEntry, log: Logger, url: string | undefined, startedAt: number): void {
  log.info({ url }, 'websocket tunnel open')
  void spliceTunnel(input).then((result) => {
    opened.end()
    log.info({
      url,
      ms: Math.round(performance.now() - startedAt),
      bytesIn: result.bytesClientToBackend,
      bytesOut: result.bytesBackendToClient,
      // Cut by the drain at the end of the shutdown grace (issue #10) or through the admin API (issue #12), not by a fault.
      reason: entry.cutReason ?? result.reason
    }, 'websocket tunnel closed')
  })
}

async function tunnel (req: IncomingMessage, client: Duplex, head: Buffer, accepted: Accepted, deps: UpgradeDeps, log: Logger): Promise<void> {
  const { handshake, match, entry } = accepted
  const { route } = match
  const { timeouts } = route.options
  const backend = openBackend(route.upstream)
  backend.on('error', (err: NodeJS.ErrnoException) => log.debug({ err: { code: err.code } }, 'websocket backend socket error'))
  entry.attachBackend(backend)
  // A client that leaves during the handshake takes the backend connection
  // with it, and so frees its tunnel slot at once.
  const pending = watchPendingClient(client, head, () => {
    client.destroy()
    backend.destroy()
  })

  const startedAt = performance.now()
  try {
    await connectBackend(backend, timeouts.connectMs ?? deps.connectTimeoutMs, route.service, route.upstream.kind === 'url' && route.upstream.secure)
    backend.write(buildUpstreamHead(req, match, deps.trustedProxies), 'latin1')
    const { head: responseHead, rest } = await readResponseHead(backend, timeouts.upstreamMs ?? deps.handshakeTimeoutMs)
    // Any response head, 101 or not: the backend is there (issue #12).
    deps.health?.observeResponse(route.prefix)
    const clientRest = pending.stop()
    const verdict = judgeUpgradeResponse(responseHead, handshake.key)
    if (verdict === 'invalid') throw new GatewayError('bad_gateway', { service: route.service, message: 'The service sent an invalid WebSocket handshake response.' })
    if (verdict === 'relay') {
      deps.stats.refuse({ prefix: route.prefix, result: 'backend_refused', failure: null, url: req.url ?? '' }, false)
      log.info({ url: req.url, status: responseHead.status }, 'websocket refused by service')
      // A client that leaves mid-relay still takes the backend connection with it.
      client.once('close', () => backend.destroy())
      relayResponse(responseHead, rest, backend, client, deps.handshakeTimeoutMs)
      return
    }
    if (client.destroyed || backend.destroyed) {
      // Every upgrade ends in exactly one result (issue #12): a side gone at the last moment failed it.
      deps.stats.refuse({ prefix: route.prefix, result: 'failed', failure: null, url: req.url ?? '' }, false)
      client.destroy()
      backend.destroy()
      return
    }
    const opened = deps.stats.open(route.prefix)
    openTunnel({
      client,
      backend,
      responseHead: responseHead.raw,
      backendRest: rest,
      clientRest,
      stats: opened,
      idleTimeoutMs: timeouts.tunnelIdleMs ?? deps.idleTimeoutMs,
      onMeter: (meter) => entry.attachMeter(meter)
    }, opened, entry, log, req.url, startedAt)
  } catch (err) {
    pending.stop()
    const failure = pending.gone ? new GatewayError('client_closed', { service: route.service }) : classifyUpstreamError(err, route.service)
    // The one place the upgrade path learns that a socket refused or is gone (issue #12).
    deps.health?.observeFailure(route.prefix, innermostCode(err))
    deps.stats.refuse({ prefix: route.prefix, result: 'failed', failure, url: req.url ?? '' }, failure.code !== 'client_closed')
    log[failure.code === 'client_closed' ? 'debug' : 'warn']({ url: req.url, status: failure.status, error: failure.code, cause: innermostCode(err) }, 'websocket handshake failed')
    backend.destroy()
    if (!client.destroyed) refuseUpgrade(client, failure)
  }
}
