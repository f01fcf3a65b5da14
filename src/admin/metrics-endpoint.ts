import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { RESERVED_SERVICE } from '../routing/route-types.js'

export interface MetricsEndpointDeps {
  /** The router's Prometheus registry (metrics/router-metrics.ts), loaded on the first scrape. */
  registry (): Promise<Registry>
}

/** GET /_sockrouter/metrics in the Prometheus text format (issue #12). */
export function registerMetricsEndpoint (app: FastifyInstance, deps: MetricsEndpointDeps): void {
  // The admin prefix, spelt as admin-routes.ts's ADMIN_PREFIX: importing it back would be a cycle.
  app.get(`/${RESERVED_SERVICE}/metrics`, async (_request, reply) => {
    const registry = await deps.registry()
    const text = await registry.metrics()
    return reply.header('cache-control', 'no-store').type(registry.contentType).send(text)
  })
}
