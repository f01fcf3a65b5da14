import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client'
import type { RouteStore } from '../routing/route-store.js'
import { UPGRADE_RESULTS, type TunnelStats } from '../upgrade/tunnel-stats.js'
import { DurationHistogram } from './duration-histogram.js'
import { NO_ROUTE_LABEL, type RequestCounters } from './route-counters.js'

/** The one thing the metrics need from route health (src/health/route-health.ts, contract §1). */
export interface HealthLookup {
  get (prefix: string): { readonly state: string }
}

export const HEALTH_STATES: readonly string[] = ['healthy', 'unhealthy', 'unreachable', 'unknown']

export interface MetricsRegistryDeps {
  readonly counters: RequestCounters
  readonly tunnels: TunnelStats
  readonly store: RouteStore
  readonly configErrors: () => readonly string[]
  /** Without it every route's health is `unknown`. */
  readonly health?: HealthLookup
}

/**
 * The gauges that are facts about the whole router, which it knows once
 * whatever the number of workers: summed over N workers they would read N
 * times too high, so with `--workers` a worker never exports them and the
 * primary's own registry does, once (issue #14).
 */
export const ROUTER_WIDE_METRICS: ReadonlySet<string> = new Set(['sockrouter_routes', 'sockrouter_route_health', 'sockrouter_config_errors'])

/** What the router-wide gauges read: the route table, its health and the services.d errors. */
export type RouterWideDeps = Pick<MetricsRegistryDeps, 'store' | 'configErrors' | 'health'>

let processRegistry: Registry | null = null

/**
 * prom-client's default metrics (CPU, memory, event loop lag, GC…) describe
 * the process, and their collectors (an event-loop delay monitor, a GC
 * observer) can never be stopped: one set per process, shared by every
 * router it starts (tests start hundreds).
 */
function processMetrics (): Metric[] {
  if (processRegistry === null) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry.getMetricsAsArray() as unknown as Metric[]
}

/**
 * The router's own registry (not prom-client's global one), issue #12. Every
 * sockrouter_* series is filled in at scrape time from plain counters
 * (route-counters.ts, tunnel-stats.ts) and the current route table, so the
 * request path never touches prom-client, and removed routes drop out.
 */
export function createMetricsRegistry (deps: MetricsRegistryDeps): Registry {
  const { counters, tunnels } = deps
  const registry = new Registry()
  for (const metric of processMetrics()) registry.registerMetric(metric)

  // prom-client calls each collect() with the metric as `this`, at scrape time.
  new Counter({
    name: 'sockrouter_requests_total',
    help: 'HTTP requests answered, by route prefix and status code (499: the client left before the response head).',
    labelNames: ['route', 'code'],
    registers: [registry],
    collect () {
      this.reset()
      for (const [route, counts] of counters.routes) {
        for (const [code, n] of counts.codes) this.inc({ route, code }, n)
      }
    }
  })
  registry.registerMetric(new DurationHistogram(counters) as unknown as Metric)
  new Counter({
    name: 'sockrouter_upstream_errors_total',
    help: 'Requests and WebSocket handshakes the service gave no valid answer to, by route prefix and GatewayError code.',
    labelNames: ['route', 'error'],
    registers: [registry],
    collect () {
      this.reset()
      for (const [route, counts] of counters.routes) {
        for (const [error, n] of counts.upstreamErrors) this.inc({ route, error }, n)
      }
      for (const [route, counts] of tunnels.routes) {
        if (route === null) continue
        for (const [error, n] of counts.upstreamErrors) this.inc({ route, error }, n)
      }
    }
  })
  new Gauge({
    name: 'sockrouter_tunnels_open',
    help: 'WebSocket tunnels open now, by route prefix.',
    labelNames: ['route'],
    registers: [registry],
    collect () {
      this.reset()
      for (const [route, counts] of tunnels.routes) if (route !== null) this.set({ route }, counts.open)
    }
  })
  new Counter({
    name: 'sockrouter_tunnels_total',
    help: 'WebSocket upgrades by route prefix and result: opened, refused (by the router), backend_refused (no 101 from the service), failed.',
    labelNames: ['route', 'result'],
    registers: [registry],
    collect () {
      this.reset()
      for (const [prefix, counts] of tunnels.routes) {
        const route = prefix ?? NO_ROUTE_LABEL
        for (const result of UPGRADE_RESULTS) if (counts.results[result] > 0) this.inc({ route, result }, counts.results[result])
      }
    }
  })
  new Counter({
    name: 'sockrouter_tunnel_bytes_total',
    help: 'WebSocket tunnel bytes after the 101 (whole frames), by route prefix and direction, open tunnels included.',
    labelNames: ['route', 'direction'],
    registers: [registry],
    collect () {
      this.reset()
      for (const [route, counts] of tunnels.routes) {
        if (route === null) continue
        this.inc({ route, direction: 'client_to_backend' }, counts.bytesClientToBackend)
        this.inc({ route, direction: 'backend_to_client' }, counts.bytesBackendToClient)
      }
    }
  })
  registerRouterWideGauges(registry, deps)
  return registry
}

/** ROUTER_WIDE_METRICS; their `first` aggregator keeps one value should two registries ever carry them (issue #14). */
function registerRouterWideGauges (registry: Registry, deps: RouterWideDeps): void {
  new Gauge({
    name: 'sockrouter_routes',
    help: 'Routes in the current table, by source (discovered, file) and status (up, down).',
    labelNames: ['source', 'status'],
    registers: [registry],
    aggregator: 'first',
    collect () {
      const count = { discovered: { up: 0, down: 0 }, file: { up: 0, down: 0 } }
      for (const route of deps.store.current.routes) count[route.source][route.status]++
      for (const source of ['discovered', 'file'] as const) {
        for (const status of ['up', 'down'] as const) this.set({ source, status }, count[source][status])
      }
    }
  })
  new Gauge({
    name: 'sockrouter_route_health',
    help: 'Health of each route: 1 for its current state, 0 for the others.',
    labelNames: ['route', 'state'],
    registers: [registry],
    aggregator: 'first',
    collect () {
      this.reset()
      for (const { prefix } of deps.store.current.routes) {
        const current = deps.health?.get(prefix).state ?? 'unknown'
        for (const state of HEALTH_STATES) this.set({ route: prefix, state }, state === current ? 1 : 0)
      }
    }
  })
  new Gauge({
    name: 'sockrouter_config_errors',
    help: 'services.d errors now in force (a rejected file keeps its last good version, or nothing).',
    registers: [registry],
    aggregator: 'first',
    collect () {
      this.set(deps.configErrors().length)
    }
  })
}

/** The primary's own registry with `--workers` (issue #14): the router-wide gauges, from its table and its view of health. */
export function createRouterWideRegistry (deps: RouterWideDeps): Registry {
  const registry = new Registry()
  registerRouterWideGauges(registry, deps)
  return registry
}
