import { EventEmitter, once } from 'node:events'
import { createServer, type Http2Server } from 'node:http2'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { RouteHealth } from '../../src/health/route-health.js'
import { parseListenAddress } from '../../src/listen/listen-address.js'
import { buildRouteTable, socketsOnly } from '../../src/routing/build-route-table.js'
import { RouteStore } from '../../src/routing/route-store.js'
import type { Route, RouteOptions, RouteTable } from '../../src/routing/route-types.js'
import { createExtendedConnectHandler } from '../../src/upgrade/extended-connect.js'
import { OriginHostGuard } from '../../src/upgrade/origin-host-guard.js'
import { TunnelRegistry } from '../../src/upgrade/tunnel-registry.js'
import { TunnelStats } from '../../src/upgrade/tunnel-stats.js'
import { DEADLINE_MS, withTimeout } from './wait-for.js'

interface Teardown { teardown (fn: () => unknown): void }

export interface HarnessRoute {
  /** `svc/ws`: the socket is `<dir>/svc/ws.sock` and the prefix `/svc/ws/`. */
  readonly key: string
  readonly options?: Partial<RouteOptions>
}

export interface Harness {
  readonly server: Http2Server
  readonly port: number
  /** `127.0.0.1:PORT`, the :authority the guard accepts. */
  readonly authority: string
  readonly registry: TunnelRegistry
  readonly stats: TunnelStats
  readonly health: RouteHealth
  readonly logs: Record<string, unknown>[]
  waitForLog (msg: string): Promise<Record<string, unknown>>
}

/** A table of discovered socket routes under `dir`, with per-route option overrides (`websocket: false`…). */
function tableOf (dir: string, routes: readonly HarnessRoute[]): RouteTable {
  const sockets = routes.map(({ key }) => {
    const [service, name] = key.split('/') as [string, string]
    return { service, name, path: `${dir}/${key}.sock`, relativePath: `${key}.sock`, identity: key }
  })
  const { table } = buildRouteTable(socketsOnly({ dir, sockets }))
  const adjusted = table.routes.map((route): Route => {
    const options = routes.find((r) => r.key === route.key)?.options
    return options === undefined ? route : { ...route, options: { ...route.options, ...options } }
  })
  return { routes: adjusted, byKey: new Map(adjusted.map((r) => [r.key, r])), parents: table.parents }
}

/**
 * The RFC 8441 handler on its own cleartext HTTP/2 server (prior
 * knowledge), with the router-side deps built as start-router.ts builds
 * them: real route table, registry, stats, Host/Origin guard and passive health.
 */
export async function startExtendedConnectHarness (t: Teardown, dir: string, routes: readonly HarnessRoute[], allowedOrigins: readonly string[] = [], idleTimeoutMs = 0): Promise<Harness> {
  const store = new RouteStore()
  const table = tableOf(dir, routes)
  store.swap(table)
  const health = new RouteHealth()
  health.sync(table)
  const registry = new TunnelRegistry({ maxTunnels: 100, maxTunnelsPerIp: 100 })
  const stats = new TunnelStats()
  const guard = new OriginHostGuard({ listen: [parseListenAddress('127.0.0.1:0')], allowedHosts: [], allowedOrigins })
  const logs: Record<string, unknown>[] = []
  const lines = new EventEmitter<{ line: [Record<string, unknown>] }>()
  // pino writes one whole line per call to a plain `{ write }` destination.
  const logger = pino({ level: 'debug' }, {
    write: (text: string) => {
      const line = JSON.parse(text) as Record<string, unknown>
      logs.push(line)
      lines.emit('line', line)
    }
  })
  const handler = createExtendedConnectHandler({
    store,
    registry,
    stats,
    guard,
    logger,
    connectTimeoutMs: 5_000,
    handshakeTimeoutMs: 5_000,
    idleTimeoutMs,
    health
  })
  // Node's compatibility layer, which emits `connect`, exists only once a `request` listener does (as Fastify's will).
  const server = createServer({ settings: { enableConnectProtocol: true } }, (_req, res) => { res.writeHead(404).end() })
  server.on('connect', handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as AddressInfo).port
  const waitForLog = (msg: string): Promise<Record<string, unknown>> => {
    const found = logs.find((line) => line.msg === msg)
    if (found !== undefined) return Promise.resolve(found)
    let onLine = (_line: Record<string, unknown>): void => {}
    return withTimeout(new Promise<Record<string, unknown>>((resolve) => {
      onLine = (line) => { if (line.msg === msg) resolve(line) }
      lines.on('line', onLine)
    }), DEADLINE_MS, `log line "${msg}"`).finally(() => lines.off('line', onLine))
  }
  return { server, port, authority: `127.0.0.1:${port}`, registry, stats, health, logs, waitForLog }
}
