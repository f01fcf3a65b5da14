import type { FastifyInstance } from 'fastify'
import type { RescanFailure } from '../discovery/snapshot-source.js'
import type { UpstreamPools } from '../forward/upstream-pools.js'
import type { RouteStore } from '../routing/route-store.js'
import { RESERVED_SERVICE } from '../routing/route-types.js'
import { registerMetricsEndpoint, type MetricsEndpointDeps } from './metrics-endpoint.js'

export interface AdminDeps {
  readonly store: RouteStore
  readonly pools: UpstreamPools
  readonly startedAt: number
  /** Current services.d errors (issue #4). */
  readonly configErrors: () => readonly string[]
  /** Why the latest rescan failed, or null (issue #10). */
  readonly rescanFailure: () => RescanFailure | null
  /** Prometheus metrics (issue #12); GET /_sockrouter/metrics exists only with them. */
  readonly metrics?: MetricsEndpointDeps
}

export const ADMIN_PREFIX = `/${RESERVED_SERVICE}`

/** The router's own endpoints. Static routes beat the forwarder's wildcard in find-my-way. */
export function registerAdminRoutes (app: FastifyInstance, deps: AdminDeps): void {
  if (deps.metrics !== undefined) registerMetricsEndpoint(app, deps.metrics)
  app.get(`${ADMIN_PREFIX}/health`, async () => {
    const configErrors = deps.configErrors()
    const rescanFailure = deps.rescanFailure()
    return {
      // Still serving, but a services.d file is rejected and its last good version (or nothing) is in force,
      // or the latest rescan failed and the last good table is in force.
      status: configErrors.length === 0 && rescanFailure === null ? 'ok' : 'degraded',
      uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
      routes: deps.store.current.routes.length,
      routesDown: deps.store.current.routes.filter((r) => r.status === 'down').length,
      upstreamPools: deps.pools.poolCount,
      configErrors,
      rescanError: rescanFailure === null ? null : { message: rescanFailure.message, since: rescanFailure.since }
    }
  })

  app.get(`${ADMIN_PREFIX}/routes`, async () => ({
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
        : { kind: 'url', url: route.upstream.label }
    }))
  }))
}
