import type { FastifyInstance } from 'fastify'
import type { UpstreamPools } from '../forward/upstream-pools.js'
import { viewHealth, type HealthState, type RouteHealth } from '../health/route-health.js'
import type { Skipped } from '../routing/build-route-table.js'
import { RESERVED_SERVICE } from '../routing/route-types.js'
import { registerDashboardPage } from './dashboard-page.js'
import { registerLiveFeed } from './live-feed.js'
import type { RouterStateSources } from './live-state.js'
import { registerMetricsEndpoint, type MetricsEndpointDeps } from './metrics-endpoint.js'
import type { WholeRouterView } from './whole-router.js'

export interface AdminDeps extends RouterStateSources {
  readonly pools: UpstreamPools
  /** What the latest table build left out: the same problems `sockrouter check` fails on (issue #12). */
  readonly skipped: () => readonly Skipped[]
  /** Each route's health (issue #12); null: every route is `unknown`. */
  readonly health: RouteHealth | null
  /** Aborted when the router starts to close, so the live feed's open streams end at once (issue #12). */
  readonly shutdown?: AbortSignal
  /** Prometheus metrics (issue #12); GET /_sockrouter/metrics exists only with them. */
  readonly metrics?: MetricsEndpointDeps
  /** `--workers` (issue #14): the metrics and live state of every worker, through the primary. */
  readonly wholeRouter?: WholeRouterView
}

function healthCounts (deps: AdminDeps): Record<HealthState, number> {
  return deps.health?.counts() ?? { healthy: 0, unhealthy: 0, unreachable: 0, unknown: deps.store.current.routes.length }
}

export const ADMIN_PREFIX = `/${RESERVED_SERVICE}`

/**
 * The router's own read-only endpoints, registered by the admin plugin
 * (admin-plugin.ts) under its prefix: paths here are relative to
 * ADMIN_PREFIX. Static routes beat the forwarder's wildcard in find-my-way.
 */
export function registerAdminRoutes (app: FastifyInstance, deps: AdminDeps): void {
  if (deps.metrics !== undefined) registerMetricsEndpoint(app, deps.metrics, deps.wholeRouter)
  app.get('/health', async () => {
    const configErrors = deps.configErrors()
    const rescanFailure = deps.rescanFailure()
    const skipped = deps.skipped()
    return {
      // Still serving, but a services.d file is rejected and its last good version (or nothing) is in force,
      // the latest rescan failed and the last good table is in force, or a declared route was left out
      // (a duplicate prefix): exactly what makes `sockrouter check` exit 1 (issue #12). A route's own
      // health never changes this: it has its own counts below.
      status: configErrors.length === 0 && rescanFailure === null && skipped.length === 0 ? 'ok' : 'degraded',
      uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
      routes: deps.store.current.routes.length,
      routesDown: deps.store.current.routes.filter((r) => r.status === 'down').length,
      upstreamPools: deps.pools.poolCount,
      configErrors,
      skipped,
      rescanError: rescanFailure === null ? null : { message: rescanFailure.message, since: rescanFailure.since },
      health: healthCounts(deps)
    }
  })

  const { wholeRouter } = deps
  registerLiveFeed(app, '', { ...deps, health: deps.health ?? undefined, routerState: wholeRouter === undefined ? undefined : () => wholeRouter.state() })
  registerDashboardPage(app)

  app.get('/routes', async () => ({
    routes: deps.store.current.routes.map((route) => ({
      prefix: route.prefix,
      service: route.service,
      source: route.source,
      file: route.file,
      status: route.status,
      websocket: route.options.websocket,
      // Where a request for the prefix itself lands on the backend (before a URL target's base path).
      backendPath: route.options.stripPrefix ? route.options.rewrite : route.prefix,
      target: route.upstream.kind === 'unix'
        ? { kind: 'unix', socket: route.upstream.socketName, socketPath: route.upstream.socketPath }
        : { kind: 'url', url: route.upstream.label },
      ...viewHealth(deps.health?.get(route.prefix))
    })),
    // What `sockrouter check` fails on, so `sockrouter routes` can show it too (issue #12).
    configErrors: deps.configErrors(),
    skipped: deps.skipped()
  }))
}
