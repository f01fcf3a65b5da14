import type { IncomingMessage } from 'node:http'
import { connect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { classifyUpstreamError, GatewayError } from '../forward/gateway-errors.js'
import { matchRoute, type RouteMatch } from '../routing/match-route.js'
import { parseRequestTarget } from '../routing/parse-request-target.js'
import type { RouteStore } from '../routing/route-store.js'
import type { UpgradeListener } from '../server.js'
import { buildUpstreamHead } from './build-upstream-head.js'
import { checkHandshake, type Handshake } from './check-handshake.js'
import { judgeUpgradeResponse } from './check-upgrade-response.js'
import { refuseUpgrade } from './close-client.js'
import type { OriginHostGuard } from './origin-host-guard.js'
import { readResponseHead } from './read-response-head.js'
import { relayResponse } from './relay-response.js'
import { spliceTunnel } from './splice-tunnel.js'
import type { TunnelEntry, TunnelRegistry } from './tunnel-registry.js'
import type { TunnelStats } from './tunnel-stats.js'

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
}

interface Accepted {
  readonly handshake: Handshake
  readonly match: RouteMatch
  readonly entry: TunnelEntry
}

/** Steps 1–2 and the guards; throws the GatewayError the client gets. */
function accept (req: IncomingMessage, client: Duplex, deps: UpgradeDeps): Accepted {
  if (!deps.registry.accepting) throw new GatewayError('service_unavailable', { message: 'The router is shutting down.' })
  const hostError = deps.guard.checkHost(req)
  if (hostError !== null) throw hostError
  const handshake = checkHandshake(req)
  const originError = deps.guard.checkOrigin(req)
  if (originError !== null) throw originError
  const match = matchRoute(deps.store.current, parseRequestTarget(req.url ?? '/'))
  if (match === null) throw new GatewayError('no_route')
  const entry = deps.registry.admit(client, req.socket.remoteAddress, match.route.service)
  return { handshake, match, entry }
}

/** Step 4: resolves once connected; 502 if refused or missing, 504 after the connect timeout. */
function connectBackend (backend: Socket, timeoutMs: number, service: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new GatewayError('gateway_timeout', { service })), timeoutMs)
    backend.once('connect', () => { clearTimeout(timer); resolve() })
    backend.once('error', (err) => { clearTimeout(timer); reject(classifyUpstreamError(err, service)) })
    backend.once('close', () => { clearTimeout(timer); reject(new GatewayError('bad_gateway', { service })) })
  })
}

/**
 * The `upgrade` event of every listener (issue #3), as a short list of steps:
 * check the request, resolve the route, build the upstream head, connect,
 * wait for the 101 and check it, then splice. Upgrades never touch
 * reply-from. Until a 101 is accepted the client socket stays paused, so
 * nothing the client sent after its request (Node's `head`, or later bytes)
 * can reach the backend; the kernel's socket buffer and TCP flow control
 * bound what waits.
 */
export function createUpgradeHandler (deps: UpgradeDeps): UpgradeListener {
  const log = deps.logger
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
      deps.stats.refused++
      log.info({ url: req.url, status: failure.status, error: failure.code }, 'websocket refused')
      refuseUpgrade(client, failure)
      return
    }
    void tunnel(req, client, head, accepted, deps)
  }
}

async function tunnel (req: IncomingMessage, client: Duplex, clientRest: Buffer, accepted: Accepted, deps: UpgradeDeps): Promise<void> {
  const { handshake, match, entry } = accepted
  const { route } = match
  const log = deps.logger.child({ service: route.service, socket: route.upstream.socketName })
  const backend = connect(route.upstream.socketPath)
  backend.on('error', (err: NodeJS.ErrnoException) => log.debug({ err: { code: err.code } }, 'websocket backend socket error'))
  entry.attachBackend(backend)
  // A client that leaves during the handshake takes the backend connection with it.
  const onClientGone = (): void => { backend.destroy() }
  client.once('close', onClientGone)

  const startedAt = performance.now()
  try {
    await connectBackend(backend, deps.connectTimeoutMs, route.service)
    backend.write(buildUpstreamHead(req, match))
    const { head, rest } = await readResponseHead(backend, deps.handshakeTimeoutMs)
    const verdict = judgeUpgradeResponse(head, handshake.key)
    if (verdict === 'invalid') throw new GatewayError('bad_gateway', { service: route.service, message: 'The service sent an invalid WebSocket handshake response.' })
    if (verdict === 'relay') {
      deps.stats.refused++
      log.info({ url: req.url, status: head.status }, 'websocket refused by service')
      relayResponse(head, rest, backend, client, deps.handshakeTimeoutMs)
      return
    }
    client.off('close', onClientGone)
    if (client.destroyed || backend.destroyed) {
      client.destroy()
      backend.destroy()
      return
    }
    deps.stats.opened++
    deps.stats.active++
    log.info({ url: req.url }, 'websocket tunnel open')
    const result = await spliceTunnel({
      client,
      backend,
      responseHead: head.raw,
      backendRest: rest,
      clientRest,
      stats: deps.stats,
      idleTimeoutMs: deps.idleTimeoutMs
    })
    deps.stats.active--
    log.info({
      url: req.url,
      ms: Math.round(performance.now() - startedAt),
      bytesIn: result.bytesClientToBackend,
      bytesOut: result.bytesBackendToClient,
      reason: result.reason
    }, 'websocket tunnel closed')
  } catch (err) {
    const failure = classifyUpstreamError(err, route.service)
    deps.stats.refused++
    log.info({ url: req.url, status: failure.status, error: failure.code, cause: (failure.cause as { code?: string } | undefined)?.code }, 'websocket handshake failed')
    backend.destroy()
    if (!client.destroyed) refuseUpgrade(client, failure)
  }
}
