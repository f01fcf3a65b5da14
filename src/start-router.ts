import { access, constants, mkdir, stat } from 'node:fs/promises'
import type { Logger } from 'pino'
import { ROUTER_DEFAULTS } from './config/router-defaults.js'
import { SnapshotSource } from './discovery/snapshot-source.js'
import { UpstreamPools } from './forward/upstream-pools.js'
import { formatListenAddress, type ListenAddress } from './listen/listen-address.js'
import { closeListener, listenOn, type Listener } from './listen/start-listeners.js'
import { listenOnFd, type InheritedFd } from './listen/inherited-fds.js'
import { buildRouteTable } from './routing/build-route-table.js'
import { routeLogFields } from './logging/route-log-fields.js'
import type { RouterSnapshot } from './routing/route-types.js'
import { describeChange } from './routing/diff-route-tables.js'
import { RouteStore } from './routing/route-store.js'
import { buildServer } from './server.js'
import { OriginHostGuard } from './upgrade/origin-host-guard.js'
import { TunnelRegistry } from './upgrade/tunnel-registry.js'
import { TunnelStats } from './upgrade/tunnel-stats.js'
import { createUpgradeHandler } from './upgrade/upgrade-handler.js'

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
}

export interface RunningRouter {
  readonly listeners: readonly Listener[]
  readonly store: RouteStore
  readonly discovery: SnapshotSource
  readonly pools: UpstreamPools
  /** Live WebSocket tunnels and their counters. */
  readonly tunnels: { readonly registry: TunnelRegistry, readonly stats: TunnelStats }
  /** Current services.d errors, one line each, for the health endpoint. */
  configErrors (): string[]
  /** Full rescan of the socket dir and services.d, as SIGHUP does. */
  rescan (): Promise<void>
  /** Stops accepting, lets in-flight requests finish for the grace period, then cuts the rest. */
  close (): Promise<void>
}

export class StartupError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

async function prepareSocketDir (dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })
    await access(dir, constants.R_OK | constants.X_OK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO'
    const reason = code === 'ENOTDIR' || code === 'EEXIST' ? 'it is not a directory' : code === 'EACCES' ? 'permission denied' : code
    throw new StartupError('socket_dir', `cannot use socket directory ${dir}: ${reason}`)
  }
}

/**
 * Logs rejected files, skipped routes and overrides when they first appear,
 * not on every rescan: an unchanged problem is said once (issue #4).
 */
function reportOnce (log: Logger, reported: Set<string>, snapshot: RouterSnapshot, skipped: readonly { what: string, reason: string }[], overrides: readonly string[]): void {
  const current = new Set<string>()
  const say = (key: string, write: () => void): void => {
    current.add(key)
    if (!reported.has(key)) write()
  }
  for (const file of snapshot.files) {
    if (file.errors.length === 0) continue
    say(`file ${file.file} ${file.errors.join('|')}`, () => {
      log.error({ file: file.file, errors: file.errors, keptLastGood: file.stale }, `${file.file} rejected${file.stale ? '; its last good version stays in force' : ''}: ${file.errors.join('; ')}`)
    })
  }
  for (const s of skipped) say(`skip ${s.what} ${s.reason}`, () => log.warn({ what: s.what, reason: s.reason }, `not routed: ${s.what}: ${s.reason}`))
  for (const prefix of overrides) say(`override ${prefix}`, () => log.info({ prefix }, `a route file overrides the discovered route ${prefix}`))
  reported.clear()
  for (const key of current) reported.add(key)
}

/** Wires discovery → pure table build → atomic swap → forwarders, then listens. */
export async function startRouter (options: RouterOptions): Promise<RunningRouter> {
  const log = options.logger
  await prepareSocketDir(options.socketDir)

  const store = new RouteStore()
  const pools = new UpstreamPools({ connectTimeoutMs: options.connectTimeoutMs, headersTimeoutMs: options.upstreamTimeoutMs })
  store.on('swap', ({ current, changes }) => {
    pools.sync(current)
    for (const change of changes) {
      log.info({ prefix: change.route.prefix, ...routeLogFields(change.route), change: change.kind }, describeChange(change))
    }
  })

  const discovery = new SnapshotSource({ socketDir: options.socketDir, servicesDir: options.servicesDir ?? null, log })
  const reported = new Set<string>()
  discovery.on('snapshot', (snapshot) => {
    const { table, skipped, overrides } = buildRouteTable(snapshot)
    reportOnce(log, reported, snapshot, skipped, overrides)
    store.swap(table)
  })
  await discovery.start()

  const registry = new TunnelRegistry({
    maxTunnels: options.maxTunnels ?? ROUTER_DEFAULTS.maxTunnels,
    maxTunnelsPerIp: options.maxTunnelsPerIp ?? ROUTER_DEFAULTS.maxTunnelsPerIp
  })
  const stats = new TunnelStats()
  const inherited = options.inheritedFds ?? []
  const listen = inherited.length > 0 ? inherited.map((i) => i.address) : options.listen
  const guard = new OriginHostGuard({
    listen,
    allowedHosts: options.allowedHosts ?? [],
    allowedOrigins: options.allowedOrigins ?? []
  })
  const onUpgrade = createUpgradeHandler({
    store,
    registry,
    stats,
    guard,
    logger: log,
    connectTimeoutMs: options.connectTimeoutMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? ROUTER_DEFAULTS.handshakeTimeoutMs,
    idleTimeoutMs: options.tunnelIdleTimeoutMs ?? ROUTER_DEFAULTS.tunnelIdleTimeoutMs
  })
  const configErrors = (): string[] => (discovery.last?.files ?? []).flatMap((f) => f.errors)
  const { app, createListenerServer } = await buildServer({ store, pools, logger: log, onUpgrade, checkHost: (req) => guard.checkHost(req), configErrors })
  const listeners: Listener[] = []
  try {
    for (const [i, address] of listen.entries()) {
      const server = i === 0 ? app.server : createListenerServer()
      const fd = inherited[i]
      const listener = fd !== undefined ? await listenOnFd(server, fd) : await listenOn(server, address)
      listeners.push(listener)
      const from = fd !== undefined ? { fd: fd.fd } : {}
      log.info({ address: formatListenAddress(listener.address), ...from }, `listening on ${formatListenAddress(listener.address)}${fd !== undefined ? ` (fd ${fd.fd} from systemd)` : ''}`)
    }
  } catch (err) {
    await Promise.all(listeners.map(closeListener))
    await discovery.close()
    await pools.close()
    await app.close()
    throw err
  }
  log.info({ socketDir: options.socketDir, routes: store.current.routes.length }, 'sockrouter ready')

  let closing: Promise<void> | null = null
  const close = async (): Promise<void> => {
    const closed = Promise.all(listeners.map(closeListener))
    // Refuses new upgrades at once; open tunnels get the same grace as requests, then are cut.
    const tunnelsDrained = registry.drain(options.shutdownGraceMs)
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, options.shutdownGraceMs) })
    await Promise.race([closed, grace])
    clearTimeout(timer)
    for (const l of listeners) l.server.closeAllConnections()
    await tunnelsDrained
    await closed
    await discovery.close()
    await pools.close()
    await app.close()
  }

  return {
    listeners,
    store,
    discovery,
    pools,
    tunnels: { registry, stats },
    configErrors,
    rescan: () => discovery.rescan(),
    close: () => (closing ??= close())
  }
}
