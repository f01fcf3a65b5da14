import { access, constants, mkdir, stat } from 'node:fs/promises'
import type { Logger } from 'pino'
import { SocketDiscovery } from './discovery/socket-discovery.js'
import { UpstreamPools } from './forward/upstream-pools.js'
import { formatListenAddress, type ListenAddress } from './listen/listen-address.js'
import { closeListener, listenOn, type Listener } from './listen/start-listeners.js'
import { buildRouteTable } from './routing/build-route-table.js'
import { describeChange } from './routing/diff-route-tables.js'
import { RouteStore } from './routing/route-store.js'
import { buildServer } from './server.js'

export interface RouterOptions {
  readonly socketDir: string
  readonly listen: readonly ListenAddress[]
  readonly upstreamTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly shutdownGraceMs: number
  readonly logger: Logger
}

export interface RunningRouter {
  readonly listeners: readonly Listener[]
  readonly store: RouteStore
  readonly discovery: SocketDiscovery
  readonly pools: UpstreamPools
  /** Full rescan of the socket dir, as SIGHUP does. */
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

/** Wires discovery → pure table build → atomic swap → forwarders, then listens. */
export async function startRouter (options: RouterOptions): Promise<RunningRouter> {
  const log = options.logger
  await prepareSocketDir(options.socketDir)

  const store = new RouteStore()
  const pools = new UpstreamPools({ connectTimeoutMs: options.connectTimeoutMs, headersTimeoutMs: options.upstreamTimeoutMs })
  store.on('swap', ({ current, changes }) => {
    pools.sync(current)
    for (const change of changes) {
      log.info({ prefix: change.route.prefix, socket: change.route.upstream.socketName, change: change.kind }, describeChange(change))
    }
  })

  const discovery = new SocketDiscovery(options.socketDir, log)
  discovery.on('snapshot', (snapshot) => {
    const { table, skipped } = buildRouteTable(snapshot)
    for (const s of skipped) log.warn({ socket: s.relativePath, reason: s.reason }, 'socket not routed')
    store.swap(table)
  })
  await discovery.start()

  const { app, createListenerServer } = await buildServer({ store, pools, logger: log })
  const listeners: Listener[] = []
  try {
    for (const [i, address] of options.listen.entries()) {
      const listener = await listenOn(i === 0 ? app.server : createListenerServer(), address)
      listeners.push(listener)
      log.info({ address: formatListenAddress(listener.address) }, `listening on ${formatListenAddress(listener.address)}`)
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
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, options.shutdownGraceMs) })
    await Promise.race([closed, grace])
    clearTimeout(timer)
    for (const l of listeners) l.server.closeAllConnections()
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
    rescan: () => discovery.rescan(),
    close: () => (closing ??= close())
  }
}
