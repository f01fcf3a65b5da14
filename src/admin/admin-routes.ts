import type { FastifyInstance } from 'fastify'
import type { UpstreamPools } from '../forward/upstream-pools.js'
import type { RouteStore } from '../routing/route-store.js'
import { RESERVED_SERVICE } from '../routing/route-types.js'

export interface AdminDeps {
  readonly store: RouteStore
  readonly pools: UpstreamPools
  readonly startedAt: number
}

export const ADMIN_PREFIX = `/${RESERVED_SERVICE}`

/** The router's own endpoints. Static routes beat the forwarder's wildcard in find-my-way. */
export function registerAdminRoutes (app: FastifyInstance, deps: AdminDeps): void {
  app.get(`${ADMIN_PREFIX}/health`, async () => ({
    status: 'ok',
    uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
    routes: deps.store.current.routes.length,
    upstreamPools: deps.pools.poolCount
  }))

  app.get(`${ADMIN_PREFIX}/routes`, async () => ({
    routes: deps.store.current.routes.map((route) => ({
      prefix: route.prefix,
      service: route.service,
      source: route.source,
      target: { kind: route.upstream.kind, socket: route.upstream.socketName, socketPath: route.upstream.socketPath }
    }))
  }))
}
