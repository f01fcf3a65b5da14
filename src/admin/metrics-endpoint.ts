import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'

export interface MetricsEndpointDeps {
  /** The router's Prometheus registry (metrics/router-metrics.ts), loaded on the first scrape. */
  registry (): Promise<Registry>
}

/** GET /_sockrouter/metrics in the Prometheus text format (issue #12), registered by the admin plugin. */
export function registerMetricsEndpoint (app: FastifyInstance, deps: MetricsEndpointDeps): void {
  // Inside the admin plugin, whose prefix makes this /_sockrouter/metrics.
  app.get('/metrics', async (_request, reply) => {
    const registry = await deps.registry()
    const text = await registry.metrics()
    return reply.header('cache-control', 'no-store').type(registry.contentType).send(text)
  })
}
