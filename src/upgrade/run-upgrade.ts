import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { classifyUpstreamError, GatewayError, innermostCode } from '../forward/gateway-errors.js'
import type { Route } from '../routing/route-types.js'
import { acceptUpgrade, routeOf, type Accepted } from './accept-upgrade.js'
import { connectBackend, openBackend } from './open-backend.js'
import { readResponseHead } from './read-response-head.js'
import { relayResponse } from './relay-response.js'
import { socketErrorLog } from './socket-error-log.js'
import { spliceTunnel, type SpliceInput } from './splice-tunnel.js'
import type { TunnelEntry } from './tunnel-registry.js'
import type { OpenTunnel } from './tunnel-stats.js'
import type { UpgradeDeps } from './upgrade-deps.js'
import type { UpgradeProtocol } from './upgrade-protocol.js'
import { watchPendingClient } from './watch-pending-client.js'

/**
 * One tunnel request, HTTP/1.1 Upgrade or RFC 8441 extended CONNECT, as a
 * short list of steps: check the request, resolve the route, build the
 * upstream head, connect, wait for the 101 and check it, then splice.
 * Tunnels never touch reply-from. Until a 101 is accepted nothing the client
 * sent after its request (Node's `head`, or later bytes) can reach the
 * backend: it is held in a bounded buffer (watch-pending-client.ts), then
 * the kernel's socket buffer and TCP (or HTTP/2) flow control bound what waits.
 */
export function startUpgrade<C extends Duplex> (req: IncomingMessage, client: C, head: Buffer, protocol: UpgradeProtocol<C>, deps: UpgradeDeps, logFor: (route: Route) => Logger): void {
  const log = deps.logger
  client.on('error', socketErrorLog(log, 'websocket client socket error'))
  client.pause()
  if ('setTimeout' in client) (client as unknown as Socket).setTimeout(0)

  const refuse = (err: unknown): void => {
    const failure = err instanceof GatewayError ? err : new GatewayError('internal_error')
    if (failure.code === 'internal_error') log.error({ err }, 'unexpected error in upgrade')
    const route = routeOf(req, deps.store)
    // A route that is down fails because of its service, as on the HTTP path (issue #12).
    deps.stats.refuse({ prefix: route?.prefix ?? null, result: 'refused', failure, url: req.url ?? '' }, failure.code === 'service_unavailable' && route?.status === 'down')
    log.info({ url: req.url, status: failure.status, error: failure.code }, 'websocket refused')
    protocol.refuse(client, failure)
  }
  let accepted: Accepted | Promise<Accepted>
  try {
    accepted = acceptUpgrade(req, client, deps, (r) => protocol.check(r))
  } catch (err) {
    refuse(err)
    return
  }
  // A promise only under --workers, while the primary leases a router-wide tunnel slot (issue #14).
  if (accepted instanceof Promise) accepted.then((a) => { void tunnel(req, client, head, a, protocol, deps, logFor(a.match.route)) }, refuse)
  else void tunnel(req, client, head, accepted, protocol, deps, logFor(accepted.match.route))
}

/**
 * Step 6 and the closing log line. Not part of `tunnel`: an async function
 * keeps its whole frame (the request, the parsed heads) alive while it
 * awaits, and a tunnel may stay open for days, so only what the closing line
 * needs is held here (issue #5: RSS per idle tunnel).
 */
function openTunnel (input: SpliceInput, opened: OpenTunnel, entry: TunnelEntry, log: Logger, url: string | undefined, http: '1.1' | '2', startedAt: number): void {
  log.info({ url, http }, 'websocket tunnel open')
  spliceTunnel(input, (result) => {
    opened.end()
    log.info({
      url,
      http,
      ms: Math.round(performance.now() - startedAt),
      bytesIn: result.bytesClientToBackend,
      bytesOut: result.bytesBackendToClient,
      // Cut by the drain at the end of the shutdown grace (issue #10) or through the admin API (issue #12), not by a fault.
      reason: entry.cutReason ?? result.reason
    }, 'websocket tunnel closed')
  })
}

async function tunnel<C extends Duplex> (req: IncomingMessage, client: C, head: Buffer, accepted: Accepted, protocol: UpgradeProtocol<C>, deps: UpgradeDeps, log: Logger): Promise<void> {
  const { handshake, match, entry } = accepted
  const { route } = match
  const { timeouts } = route.options
  const backend = openBackend(route.upstream)
  backend.on('error', socketErrorLog(log, 'websocket backend socket error'))
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
    backend.write(protocol.buildHead(req, match, handshake, deps.trustedProxies), 'latin1')
    const { head: responseHead, rest } = await readResponseHead(backend, timeouts.upstreamMs ?? deps.handshakeTimeoutMs)
    // Any response head, 101 or not: the backend is there (issue #12).
    deps.health?.observeResponse(route.prefix)
    const clientRest = pending.stop()
    const verdict = protocol.judge(responseHead, handshake)
    if (verdict === 'invalid') throw new GatewayError('bad_gateway', { service: route.service, message: 'The service sent an invalid WebSocket handshake response.' })
    if (verdict === 'relay') {
      deps.stats.refuse({ prefix: route.prefix, result: 'backend_refused', failure: null, url: req.url ?? '' }, false)
      log.info({ url: req.url, status: responseHead.status }, 'websocket refused by service')
      // A client that leaves mid-relay still takes the backend connection with it.
      client.once('close', () => backend.destroy())
      relayResponse(responseHead, rest, backend, client, deps.handshakeTimeoutMs, protocol)
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
      responseHead: protocol.confirm(client, responseHead),
      backendRest: rest,
      clientRest,
      stats: opened,
      idleTimeoutMs: timeouts.tunnelIdleMs ?? deps.idleTimeoutMs,
      onMeter: (meter) => entry.attachMeter(meter)
    }, opened, entry, log, req.url, protocol.http, startedAt)
  } catch (err) {
    pending.stop()
    const failure = pending.gone ? new GatewayError('client_closed', { service: route.service }) : classifyUpstreamError(err, route.service)
    // The one place the upgrade path learns that a socket refused or is gone (issue #12).
    deps.health?.observeFailure(route.prefix, innermostCode(err))
    deps.stats.refuse({ prefix: route.prefix, result: 'failed', failure, url: req.url ?? '' }, failure.code !== 'client_closed')
    log[failure.code === 'client_closed' ? 'debug' : 'warn']({ url: req.url, status: failure.status, error: failure.code, cause: innermostCode(err) }, 'websocket handshake failed')
    backend.destroy()
    if (!client.destroyed) protocol.refuse(client, failure)
  }
}
