import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Server as NetServer, Socket } from 'node:net'
import type { Server as TlsServer, TlsOptions } from 'node:tls'
import type { Duplex } from 'node:stream'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { publicAccess } from './admin/admin-access.js'
import type { AdminApiDeps } from './admin/admin-api-deps.js'
import { adminPlugin } from './admin/admin-plugin.js'
import { ADMIN_PREFIX, type AdminDeps } from './admin/admin-routes.js'
import type { WholeRouterView } from './admin/whole-router.js'
import type { RescanFailure } from './discovery/snapshot-source.js'
import { GatewayError } from './forward/gateway-errors.js'
import { sendGatewayError, type ErrorPageOptions } from './forward/error-response.js'
import { registerHttpForwarder } from './forward/http-forwarder.js'
import type { TrustedProxies } from './forward/trusted-proxies.js'
import type { UpstreamPools } from './forward/upstream-pools.js'
import { checkExpectation } from './forward/check-expectation.js'
import { checkTransferCoding } from './forward/check-transfer-coding.js'
import { clientErrorToGatewayError, writeRawError } from './forward/write-raw-error.js'
import { applyClientBounds, DEFAULT_CLIENT_BOUNDS, type ClientBounds } from './listen/client-bounds.js'
import { answerClientError, createInOrderServer, upgradeInTurn } from './listen/serve-in-order.js'
import { accessLogObserver } from './logging/access-log.js'
import { registerRequestTrace } from './logging/request-trace.js'
import { requestMetricsObserver } from './metrics/request-metrics.js'
import type { RouterMetrics } from './metrics/router-metrics.js'
import { ignoreUpgrade, isWebSocketUpgrade } from './listen/ignore-upgrade.js'
import { ALPN_PROTOCOLS, sendH2ByAlpn } from './listen/h2-dispatch.js'
import { createH2Server, type H2RequestHandler, type H2Sessions } from './listen/h2-server.js'
import type { ListenScheme } from './listen/listen-address.js'
import { createChildLoggerFactory } from './logging/child-logger-factory.js'
import { lingerThenDestroy } from './upgrade/close-client.js'
import { checkRequestHost } from './routing/request-host.js'
import type { RouteStore } from './routing/route-store.js'
import type { Skipped } from './routing/build-route-table.js'
import type { RouteHealth } from './health/route-health.js'

export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void

export interface ServerDeps {
  readonly store: RouteStore
  readonly pools: UpstreamPools
  readonly logger: Logger
  readonly startedAt?: number
  /** Handles the `upgrade` event of every listener (issue #3); plain HTTP never sees upgrades then. */
  readonly onUpgrade?: UpgradeListener
  /** RFC 8441 WebSocket over HTTP/2 (issue #13); left out, an extended CONNECT gets 501. */
  readonly onExtendedConnect?: H2RequestHandler
  /** Refuses requests whose `Host` is not allowed (DNS-rebinding guard, issue #3); null lets it through. */
  readonly checkHost?: (req: IncomingMessage) => GatewayError | null
  /** Current services.d errors, shown by the health endpoint. */
  readonly configErrors?: () => readonly string[]
  /** What the latest table build left out, shown by the health and routes endpoints (issue #12). */
  readonly skipped?: () => readonly Skipped[]
  /** Each route's health (issue #12); without it every route shows `unknown`. */
  readonly health?: RouteHealth
  /** Why the latest rescan failed, or null; shown by the health endpoint (issue #10). */
  readonly rescanFailure?: () => RescanFailure | null
  /** Connection caps and client timeouts for every listener (issue #10); defaults without a cap when left out. */
  readonly clientBounds?: ClientBounds
  /** Whose X-Forwarded-* to keep (issue #10); by default only unix-listener clients'. */
  readonly trustedProxies?: TrustedProxies
  /** What the admin API reads and drives (issue #12); left out, only the read-only admin endpoints answer. */
  readonly adminApi?: AdminApiDeps
  /** `--public-admin`: non-loopback public listeners serve the read-only admin surface too (issue #12). */
  readonly publicAdmin?: boolean
  /** Aborted when the router starts to close: long-lived responses (the live feed, issue #12) end then. */
  readonly shutdown?: AbortSignal
  /** Per-route counters and the Prometheus registry (issue #12); left out, nothing is counted and there is no /metrics. */
  readonly metrics?: RouterMetrics
  /** `--workers` (issue #14): the admin surface's metrics and live state come from the whole router, through the primary. */
  readonly wholeRouter?: WholeRouterView
}

/** The read-only admin endpoints' view of the router, shared by the public app and the admin listeners. */
export function adminDepsOf (deps: ServerDeps): AdminDeps {
  return { store: deps.store, pools: deps.pools, startedAt: deps.startedAt ?? Date.now(), configErrors: deps.configErrors ?? (() => []), skipped: deps.skipped ?? (() => []), health: deps.health ?? null, rescanFailure: deps.rescanFailure ?? (() => null), shutdown: deps.shutdown, metrics: deps.metrics, activity: deps.metrics?.activity, wholeRouter: deps.wholeRouter }
}

/** A listener's server, and its HTTP/2 side on an https:// or h2c:// one (issue #13). */
export interface ListenerServer {
  readonly server: NetServer
  readonly sessions: H2Sessions | null
}

export interface BuiltServer {
  readonly app: FastifyInstance
  /**
   * A further listener with the same handler, for each extra `--listen`:
   * cleartext HTTP/1.1, TLS with HTTP/2 and HTTP/1.1 by ALPN (`https`, with
   * `tls`), or HTTP/2 with prior knowledge only (`h2c`).
   */
  createListenerServer (scheme?: ListenScheme, tls?: TlsOptions): ListenerServer
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void

/**
 * Node's defaults are wrong for a proxy: requestTimeout (300 s) cuts long
 * uploads, so the body gets an idle timeout instead; the header timeout is
 * the slowloris guard (listen/client-bounds.ts). Keep-alive is a little
 * longer than a browser's, as nginx's 75 s is.
 */
function configureServer (server: Server, bounds: ClientBounds, secure = false): Server {
  // A raw 503 means nothing inside a TLS handshake: a refused TLS client is just closed.
  applyClientBounds(server, bounds, !secure)
  // sockrouter is a reverse proxy, not a forward proxy: CONNECT gets a clear 405 instead of a silent close.
  // In turn like an upgrade: a 405 written at once would cut off the responses pipelined before it (issue #10, fuzzer).
  server.on('connect', upgradeInTurn((_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy())
    writeRawError(socket, new GatewayError('method_not_allowed', { message: 'CONNECT is not supported: sockrouter is a reverse proxy.' }))
    // Node hands the socket over and forgets it: without this a client that never closes held its fd forever (issue #10, found by the fuzzer).
    lingerThenDestroy(socket)
  }))
  server.requestTimeout = 0
  server.keepAliveTimeout = KEEP_ALIVE_MS
  return server
}

const KEEP_ALIVE_MS = 72_000

/**
 * Node sends every request with `Connection: upgrade` to the `upgrade`
 * event. Only WebSocket handshakes go on to the upgrade branch; any other
 * Upgrade (h2c) is ignored and the request is served as plain HTTP
 * (RFC 9110 §7.8, issue #10).
 */
function listenForUpgrades (server: Server, onUpgrade: UpgradeListener | undefined): void {
  if (onUpgrade === undefined) return
  server.on('upgrade', upgradeInTurn((req, socket, head) => {
    if (isWebSocketUpgrade(req) || !ignoreUpgrade(server, req, socket, head)) onUpgrade(req, socket, head)
  }))
}

/**
 * The Fastify app with every route and hook, not listening: tests and main
 * decide where it listens.
 */
export async function buildServer (deps: ServerDeps): Promise<BuiltServer> {
  const bounds = deps.clientBounds ?? DEFAULT_CLIENT_BOUNDS
  let handler: RequestHandler | null = null
  const onClientError = (err: NodeJS.ErrnoException, socket: Socket): void => {
    const failure = clientErrorToGatewayError(err)
    deps.logger.debug({ err: { code: err.code }, status: failure?.status }, 'client error')
    if (failure === null || socket.destroyed) return
    answerClientError(socket, () => writeRawError(socket, failure))
  }

  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // The access log (logging/access-log.ts) writes one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: createChildLoggerFactory(),
    serverFactory: (httpHandler) => {
      handler = httpHandler
      const server = configureServer(createInOrderServer(httpHandler), bounds)
      listenForUpgrades(server, deps.onUpgrade)
      return server
    },
    clientErrorHandler: onClientError,
    frameworkErrors: (error, request, reply) => {
      deps.logger.debug({ err: { code: error.code } }, 'framework error')
      void sendGatewayError(request, reply, new GatewayError('bad_request'), deps.store.current)
    }
  })

  // On a public listener the admin surface depends on where it is bound (issue #12, admin/admin-access.ts); so does
  // whether an error page may link to the dashboard.
  const access = publicAccess(deps.publicAdmin ?? false)
  const pageOptions = (request: FastifyRequest): ErrorPageOptions => ({ dashboard: access(request.raw) !== 'health' })

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    let failure: GatewayError
    if (error instanceof GatewayError) {
      failure = error
    } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      failure = new GatewayError('bad_request')
    } else {
      request.log.error({ err: error }, 'unexpected error')
      failure = new GatewayError('internal_error')
    }
    return sendGatewayError(request, reply, failure, deps.store.current, pageOptions(request))
  })
  app.setNotFoundHandler((request, reply) => sendGatewayError(request, reply, new GatewayError('no_route'), deps.store.current, pageOptions(request)))

  // Before the checks below, so the requests they refuse are logged and counted too.
  const observers = [accessLogObserver(app.log)]
  if (deps.metrics !== undefined) observers.push(requestMetricsObserver(app, deps.metrics))
  registerRequestTrace(app, observers)
  // One callback-style hook: each async hook costs a promise per request (issue #5).
  const checkHost = deps.checkHost ?? (() => null)
  app.addHook('onRequest', (request, _reply, done) => {
    const req = request.raw
    const failure = checkRequestHost(req) ?? checkTransferCoding(req) ?? checkExpectation(req) ?? checkHost(req)
    if (failure === null) done()
    else done(failure)
  })
  await app.register(adminPlugin, { prefix: ADMIN_PREFIX, deps: adminDepsOf(deps), api: deps.adminApi ?? null, access: (request) => access(request.raw) })
  await registerHttpForwarder(app, { store: deps.store, pools: deps.pools, trustedProxies: deps.trustedProxies })
  await app.ready()

  const createH2 = (): H2Sessions => createH2Server({
    onRequest: handler as RequestHandler,
    onExtendedConnect: deps.onExtendedConnect,
    firstStreamTimeoutMs: bounds.headerTimeoutMs,
    idleTimeoutMs: KEEP_ALIVE_MS,
    bodyIdleTimeoutMs: bounds.bodyIdleTimeoutMs,
    logger: deps.logger
  })
  const http1Server = (tls?: TlsOptions): Server => {
    const server = configureServer(createInOrderServer(handler as RequestHandler, tls), bounds, tls !== undefined)
    server.on('clientError', onClientError)
    listenForUpgrades(server, deps.onUpgrade)
    return server
  }

  return {
    app,
    createListenerServer (scheme, tls) {
      if (scheme === 'h2c') {
        // Prior knowledge only (RFC 9113 §3.3): the client behind a TLS-terminating balancer knows what it talks to.
        const sessions = createH2()
        bounds.connections?.guard(sessions.server, false)
        return { server: sessions.server, sessions }
      }
      if (scheme !== 'https') return { server: http1Server(), sessions: null }
      const sessions = createH2()
      // Node's TLS handshake timeout is 120 s; a handshake is part of the request head's time (slowloris, issue #10).
      const handshakeTimeout = bounds.headerTimeoutMs > 0 ? bounds.headerTimeoutMs : undefined
      const server = http1Server({ ...tls, ALPNProtocols: ALPN_PROTOCOLS, handshakeTimeout })
      sendH2ByAlpn(server as unknown as TlsServer, sessions.server)
      return { server, sessions }
    }
  }
}
