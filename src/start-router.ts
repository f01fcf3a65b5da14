import type { Server as HttpServer } from 'node:http'
import type { Server as TlsServer } from 'node:tls'
import type { Logger } from 'pino'
import { chmod } from 'node:fs/promises'
import { isLoopbackAddress } from './admin/admin-access.js'
import type { AdminApiDeps } from './admin/admin-api-deps.js'
import { buildAdminServer, type BuiltAdminServer } from './admin/admin-server.js'
import { ROUTER_DEFAULTS } from './config/router-defaults.js'
import type { SnapshotReader } from './discovery/snapshot-source.js'
import type { SnapshotFeed } from './discovery/snapshot-feed.js'
import type { ClusterChannel } from './cluster/cluster-channel.js'
import { CLUSTER, type HealthMessage } from './cluster/cluster-messages.js'
import { RemoteSnapshotSource } from './cluster/remote-snapshot-source.js'
import { RemoteTunnelLeases } from './cluster/remote-tunnel-leases.js'
import { parseProxyRange, TrustedProxies, type ProxyRange } from './forward/trusted-proxies.js'
import { UpstreamPools } from './forward/upstream-pools.js'
import { ConnectionLimiter } from './listen/connection-limiter.js'
import { formatListenAddress, type ListenAddress } from './listen/listen-address.js'
import { maxConnectionsFor, readOpenFileLimit } from './listen/open-file-limit.js'
import { closeListener, cutListener, listenOn, type Listener } from './listen/start-listeners.js'
import { loadTlsCredentials, type TlsFiles } from './listen/tls-credentials.js'
import { TlsReloader, warnExpired } from './listen/tls-reloader.js'
import { listenOnFd, type InheritedFd } from './listen/inherited-fds.js'
import type { Skipped } from './routing/build-route-table.js'
import { RouterMetrics } from './metrics/router-metrics.js'
import type { RouteStore } from './routing/route-store.js'
import type { RouteHealth } from './health/route-health.js'
import { createRouteControl, prepareSocketDir, StartupError, type RescanResult } from './route-control.js'

export { StartupError, type RescanResult } from './route-control.js'
import { adminDepsOf, buildServer, type BuiltServer, type ServerDeps } from './server.js'
import { OriginHostGuard } from './upgrade/origin-host-guard.js'
import { TunnelRegistry } from './upgrade/tunnel-registry.js'
import { TunnelStats } from './upgrade/tunnel-stats.js'
import { createExtendedConnectHandler } from './upgrade/extended-connect.js'
import { createUpgradeHandler, type UpgradeDeps } from './upgrade/upgrade-handler.js'

export interface RouterOptions {
  readonly socketDir: string
  /** services.d (issue #4); null or left out: discovered routes only. */
  readonly servicesDir?: string | null
  readonly listen: readonly ListenAddress[]
  /** Listening sockets passed by systemd (issue #11); when any, they replace `listen`. */
  readonly inheritedFds?: readonly InheritedFd[]
  readonly upstreamTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly shutdownGraceMs: number
  readonly logger: Logger
  /** WebSocket limits and guards (issue #3); ROUTER_DEFAULTS apply when left out. */
  readonly maxTunnels?: number
  readonly maxTunnelsPerIp?: number
  /** 0 = off. */
  readonly tunnelIdleTimeoutMs?: number
  readonly handshakeTimeoutMs?: number
  readonly allowedOrigins?: readonly string[]
  readonly allowedHosts?: readonly string[]
  /** Test seam: how each rescan reads the disk (issue #10). */
  readonly readSnapshot?: SnapshotReader
  /** Client connection caps over all listeners (issue #10); the total defaults from the fd limit. */
  readonly maxConnections?: number
  readonly maxConnectionsPerIp?: number
  /** Client-side request timeouts (issue #10); 0 = off. */
  readonly headerTimeoutMs?: number
  readonly bodyIdleTimeoutMs?: number
  /** `--trusted-proxy` CIDRs or addresses whose X-Forwarded-* are kept (issue #10). */
  readonly trustedProxies?: readonly string[]
  /** Active health checks (issue #12): `--health-interval` (0 = off), `--health-path`, and the probe timeout. */
  readonly healthIntervalMs?: number
  readonly healthPath?: string
  readonly healthTimeoutMs?: number
  /** Test seam: how long a route that left the table keeps its metric series (issue #12; default 10 min). */
  readonly metricsForgetAfterMs?: number
  /** `--admin-listen`: listeners that serve the admin surface only, writes included (issue #12). */
  readonly adminListen?: readonly ListenAddress[]
  /** `--public-admin`: non-loopback public listeners serve the read-only admin surface too (issue #12). */
  readonly publicAdmin?: boolean
  /** `--tls-cert` and `--tls-key`, for the https:// listeners (issue #13). */
  readonly tls?: TlsFiles | null
  /**
   * Issue #14, `--workers`: this process is one worker of a cluster. Its
   * snapshots, active-probe verdicts and tunnel leases come from the
   * primary over `channel`; it neither watches, nor probes, nor logs route
   * changes (the primary does, once); every log line carries `worker: id`.
   */
  readonly cluster?: ClusterWorker
}

/** A worker's identity and its channel to the primary (issue #14); what the admin surface uses to ask for the whole router. */
export interface ClusterWorker {
  readonly id: number
  readonly channel: ClusterChannel
}


export interface RunningRouter {
  readonly listeners: readonly Listener[]
  /** The `--admin-listen` listeners (issue #12). */
  readonly adminListeners: readonly Listener[]
  readonly store: RouteStore
  /** The disk's SnapshotSource, or a worker's RemoteSnapshotSource (issue #14). */
  readonly discovery: SnapshotFeed
  readonly pools: UpstreamPools
  /** Live WebSocket tunnels and their counters. */
  readonly tunnels: { readonly registry: TunnelRegistry, readonly stats: TunnelStats }
  /**
   * Issue #12: per-route activity for the dashboard, and the Prometheus
   * registry behind GET /_sockrouter/metrics, created (prom-client loaded)
   * on first use.
   */
  readonly metrics: RouterMetrics
  /** Open and refused client connections, over all listeners. */
  readonly connections: ConnectionLimiter
  /** Each route's health, passive and active (issue #12): runtime state beside the pools, never in the table. */
  readonly health: RouteHealth
  /** Current services.d errors, one line each, for the health endpoint. */
  configErrors (): string[]
  /** What the latest table build left out (a duplicate prefix, the reserved name), as `sockrouter check` reports it. */
  skipped (): readonly Skipped[]
  /** Full rescan of the socket dir and services.d, as SIGHUP does; never rejects. */
  rescan (): Promise<RescanResult>
  /**
   * Reads --tls-cert and --tls-key again, as SIGHUP does (issue #13): true if
   * the https:// listeners now use them, false (old certificate kept, error
   * logged) if not or if there are none. Never rejects.
   */
  reloadTls (reason: string): Promise<boolean>
  /** This worker's id and its channel to the primary (issue #14), or null in one process. */
  readonly cluster: ClusterWorker | null
  /** Stops accepting, lets in-flight requests finish for the grace period, then cuts the rest. */
  close (): Promise<void>
}





/**
 * Only the router's user may connect to a unix admin socket (issue #12): it
 * can rewrite route files and cut tunnels. Set right after bind, before the
 * router says it is ready; the directory's own mode is the operator's to
 * choose (a private one closes even that short window).
 */
const ADMIN_SOCKET_MODE = 0o600

async function listenAdmin (built: BuiltAdminServer, addresses: readonly ListenAddress[], log: Logger, listeners: Listener[], clearStale: boolean): Promise<void> {
  for (const [i, address] of addresses.entries()) {
    const server = i === 0 ? built.app.server : built.createListenerServer()
    const listener = await listenOn(server, address, null, { clearStale })
    listeners.push(listener)
    if (address.kind === 'unix') await chmod(address.path, ADMIN_SOCKET_MODE)
    const shown = formatListenAddress(listener.address)
    log.info({ address: shown, admin: true }, `admin API listening on ${shown}`)
    if (listener.address.kind === 'tcp' && !isLoopbackAddress(listener.address.host)) {
      log.warn({ address: shown }, `the admin API on ${shown} can be reached from the network and can change routes: prefer a unix: or loopback address`)
    }
  }
}

function parseTrustedProxies (texts: readonly string[]): TrustedProxies {
  const ranges: ProxyRange[] = []
  for (const text of texts) {
    const range = parseProxyRange(text)
    if (range === null) throw new StartupError('trusted_proxy', `--trusted-proxy: "${text}" is not an IP address or CIDR`)
    ranges.push(range)
  }
  return new TrustedProxies(ranges)
}


/**
 * The certificate for the https:// listeners, checked before anything starts
 * (issue #13): a bad one is one line and exit 1, not a failed handshake later.
 */
async function prepareTls (listen: readonly ListenAddress[], inherited: readonly InheritedFd[], files: TlsFiles | null, log: Logger): Promise<TlsReloader | null> {
  const secure = listen.filter((a) => a.kind === 'tcp' && a.scheme === 'https')
  if (inherited.length > 0 && (files !== null || secure.length > 0)) {
    // The fds replace --listen, and systemd's sockets say nothing of TLS: starting would serve cleartext where TLS was asked for.
    throw new StartupError('tls', 'TLS is asked for (--tls-cert or --listen https://), but the listeners come from systemd (LISTEN_FDS) and serve plain HTTP: for TLS, let sockrouter bind --listen https://HOST:PORT itself, without sockrouter.socket')
  }
  if (secure.length === 0) {
    if (files !== null) throw new StartupError('tls', '--tls-cert and --tls-key are set, but no --listen https://HOST:PORT address uses them')
    return null
  }
  if (files === null) throw new StartupError('tls', `--listen ${formatListenAddress(secure[0] as ListenAddress)} needs --tls-cert FILE and --tls-key FILE`)
  let credentials
  try {
    credentials = await loadTlsCredentials(files)
  } catch (err) {
    throw new StartupError('tls', (err as Error).message)
  }
  log.info({ cert: files.certFile, subject: credentials.subject, validTo: credentials.validTo }, `TLS certificate for ${credentials.subject}, valid to ${credentials.validTo}`)
  if (credentials.expired) warnExpired(log, files, credentials)
  return new TlsReloader(files, credentials, log)
}

/** Wires discovery → pure table build → atomic swap → forwarders, then listens. */
export async function startRouter (options: RouterOptions): Promise<RunningRouter> {
  const log = options.logger
  const trustedProxies = parseTrustedProxies(options.trustedProxies ?? [])
  const tls = await prepareTls(options.listen, options.inheritedFds ?? [], options.tls ?? null, log)
  await prepareSocketDir(options.socketDir)

  const worker = options.cluster ?? null
  let pools: UpstreamPools | null = null
  const control = createRouteControl({
    socketDir: options.socketDir,
    servicesDir: options.servicesDir ?? null,
    log,
    readSnapshot: options.readSnapshot,
    feed: worker === null ? undefined : new RemoteSnapshotSource(worker.channel, log),
    // Under --workers the primary probes, once per route for the whole router (issue #14).
    probes: worker === null ? { path: options.healthPath, intervalMs: options.healthIntervalMs, timeoutMs: options.healthTimeoutMs } : null,
    logChanges: worker === null,
    onTable: (table) => pools?.sync(table)
  })
  const { store, health, prober, discovery, configErrors } = control
  let remoteVerdict = false
  health.on('change', (prefix, record) => {
    // The primary logged its probe's verdict already; a worker logs what its own traffic found.
    if (remoteVerdict) return
    const level = record.state === 'healthy' ? 'info' : record.state === 'unknown' ? 'debug' : 'warn'
    log[level]({ prefix, health: record.state, cause: record.cause }, `route ${prefix} is ${record.state}${record.cause === null ? '' : `: ${record.cause}`}`)
  })
  const applyVerdict = ({ prefix, state, cause }: HealthMessage): void => {
    remoteVerdict = true
    try {
      health.record(prefix, state, cause)
    } finally {
      remoteVerdict = false
    }
  }
  worker?.channel.on(CLUSTER.health, applyVerdict)
  pools = new UpstreamPools({ connectTimeoutMs: options.connectTimeoutMs, headersTimeoutMs: options.upstreamTimeoutMs, logger: log, health })

  const registry = new TunnelRegistry({
    maxTunnels: options.maxTunnels ?? ROUTER_DEFAULTS.maxTunnels,
    maxTunnelsPerIp: options.maxTunnelsPerIp ?? ROUTER_DEFAULTS.maxTunnelsPerIp
  }, worker === null ? {} : { idPrefix: `${worker.id}-`, leases: new RemoteTunnelLeases(worker.channel) })
  const stats = new TunnelStats()
  const inherited = options.inheritedFds ?? []
  const listen = inherited.length > 0 ? inherited.map((i) => i.address) : options.listen
  const adminListen = options.adminListen ?? []
  const guard = new OriginHostGuard({
    listen: [...listen, ...adminListen],
    allowedHosts: options.allowedHosts ?? [],
    allowedOrigins: options.allowedOrigins ?? []
  })
  const upgradeDeps: UpgradeDeps = {
    store,
    registry,
    stats,
    guard,
    logger: log,
    connectTimeoutMs: options.connectTimeoutMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? ROUTER_DEFAULTS.handshakeTimeoutMs,
    idleTimeoutMs: options.tunnelIdleTimeoutMs ?? ROUTER_DEFAULTS.tunnelIdleTimeoutMs,
    trustedProxies,
    health
  }
  const onUpgrade = createUpgradeHandler(upgradeDeps)
  // RFC 8441 extended CONNECT on HTTP/2 listeners (issue #13): the same deps, so the same guards, limits and registry.
  const onExtendedConnect = createExtendedConnectHandler(upgradeDeps)
  const metrics = new RouterMetrics({ store, tunnels: stats, configErrors, health, forgetAfterMs: options.metricsForgetAfterMs })
  const fdLimit = readOpenFileLimit()
  const connections = new ConnectionLimiter({
    maxConnections: options.maxConnections ?? maxConnectionsFor(fdLimit),
    maxConnectionsPerIp: options.maxConnectionsPerIp ?? ROUTER_DEFAULTS.maxConnectionsPerIp
  }, log)
  log.debug({ fdLimit, ...connections.limits }, 'connection limits')
  const clientBounds = {
    connections,
    headerTimeoutMs: options.headerTimeoutMs ?? ROUTER_DEFAULTS.headerTimeoutMs,
    bodyIdleTimeoutMs: options.bodyIdleTimeoutMs ?? ROUTER_DEFAULTS.bodyIdleTimeoutMs
  }
  // Under --workers the admin surface shows the whole router, through the primary (issue #14). Loaded only then:
  // it brings prom-client, which one process loads on its first scrape (issue #11's start-up budget).
  const seen = worker === null
    ? null
    : await (await import('./cluster/cluster-observability.js')).serveWorkerObservability({ toPrimary: worker.channel, store, metrics, health, tunnels: registry })
  const adminApi: AdminApiDeps = {
    store,
    servicesDir: options.servicesDir ?? null,
    socketDir: options.socketDir,
    routeFiles: () => discovery.last?.files ?? [],
    rescan: () => discovery.rescan(),
    rescanFailure: () => discovery.failure,
    configErrors,
    skipped: () => control.skipped(),
    tunnels: seen?.tunnels ?? registry
  }
  const listeners: Listener[] = []
  const adminListeners: Listener[] = []
  const shutdown = new AbortController()
  let built: BuiltServer | null = null
  let adminBuilt: BuiltAdminServer | null = null
  try {
    await discovery.start()
    if (discovery instanceof RemoteSnapshotSource) for (const verdict of discovery.startHealth) applyVerdict(verdict)
    const serverDeps: ServerDeps = { store, pools, logger: log, onUpgrade, onExtendedConnect, checkHost: (req) => guard.checkHost(req), configErrors, skipped: () => control.skipped(), health, rescanFailure: () => discovery.failure, clientBounds, trustedProxies, adminApi, publicAdmin: options.publicAdmin ?? false, shutdown: shutdown.signal, metrics, wholeRouter: seen?.wholeRouter }
    built = await buildServer(serverDeps)
    if (adminListen.length > 0) {
      adminBuilt = await buildAdminServer({ admin: adminDepsOf(serverDeps), api: adminApi, logger: log, checkHost: (req) => guard.checkHost(req), timeouts: clientBounds })
      await listenAdmin(adminBuilt, adminListen, log, adminListeners, worker === null)
    }
    for (const [i, address] of listen.entries()) {
      const scheme = address.kind === 'tcp' ? address.scheme : undefined
      const { server, sessions } = i === 0 && scheme === undefined
        ? { server: built.app.server, sessions: null }
        : built.createListenerServer(scheme, tls?.credentials.context)
      if (scheme === 'https') tls?.add(server as unknown as TlsServer)
      const fd = inherited[i]
      // Under --workers the primary cleared stale unix sockets before any worker listened (issue #14).
      const listener = fd !== undefined ? await listenOnFd(server as HttpServer, fd) : await listenOn(server, address, sessions, { clearStale: worker === null })
      listeners.push(listener)
      const from = fd !== undefined ? { fd: fd.fd } : {}
      log.info({ address: formatListenAddress(listener.address), ...from }, `listening on ${formatListenAddress(listener.address)}${fd !== undefined ? ` (fd ${fd.fd} from systemd)` : ''}`)
    }
    tls?.watch()
  } catch (err) {
    // Whatever failed, nothing opened so far outlives it: the watcher, the Agent, the app (issue #10).
    await Promise.all([...listeners, ...adminListeners].map(closeListener))
    await tls?.close()
    prober?.close()
    worker?.channel.off(CLUSTER.health, applyVerdict)
    await discovery.close()
    await pools.close()
    await built?.app.close()
    await adminBuilt?.app.close()
    throw err
  }
  const { app } = built
  if (worker === null) {
    log.info({ socketDir: options.socketDir, servicesDir: options.servicesDir ?? null, routes: store.current.routes.length }, 'sockrouter ready')
  } else {
    // The primary says `sockrouter ready` once every worker has said this (issue #14).
    log.info({ routes: store.current.routes.length }, 'worker ready')
  }

  let closing: Promise<void> | null = null
  const close = async (): Promise<void> => {
    // First, so the live feed's streams (issue #12) are ending before the listeners wait for their connections.
    shutdown.abort()
    prober?.close()
    const all = [...listeners, ...adminListeners]
    const closed = Promise.all(all.map(closeListener))
    // Refuses new upgrades at once; open tunnels get the same grace as requests, then are cut.
    const tunnelsDrained = registry.drain(options.shutdownGraceMs)
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, options.shutdownGraceMs) })
    await Promise.race([closed, grace])
    clearTimeout(timer)
    for (const l of all) cutListener(l)
    await tunnelsDrained
    await closed
    await tls?.close()
    worker?.channel.off(CLUSTER.health, applyVerdict)
    await discovery.close()
    await pools.close()
    await app.close()
    await adminBuilt?.app.close()
  }

  return {
    listeners,
    adminListeners,
    store,
    discovery,
    pools,
    tunnels: { registry, stats },
    metrics,
    connections,
    health,
    configErrors,
    skipped: () => control.skipped(),
    rescan: () => control.rescan(),
    cluster: worker,
    reloadTls: (reason) => tls?.reload(reason) ?? Promise.resolve(false),
    close: () => (closing ??= close())
  }
}
