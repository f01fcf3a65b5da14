import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { WholeRouterView } from './whole-router.js'

export interface MetricsEndpointDeps {
  /** The router's Prometheus registry (metrics/router-metrics.ts), loaded on the first scrape. */
  registry (): Promise<Registry>
}

interface MetricsQuery { per_worker?: string }

/**
 * GET /_sockrouter/metrics in the Prometheus text format (issue #12),
 * registered by the admin plugin. With `--workers` the whole router's, from
 * the primary; `?per_worker=1` keeps each worker's series apart under a
 * `worker` label (issue #14). One process has no workers to tell apart, and
 * ignores it.
 */
export function registerMetricsEndpoint (app: FastifyInstance, deps: MetricsEndpointDeps, wholeRouter?: WholeRouterView): void {
  // Inside the admin plugin, whose prefix makes this /_sockrouter/metrics.
  app.get<{ Querystring: MetricsQuery }>('/metrics', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    if (wholeRouter !== undefined) {
      const perWorker = request.query.per_worker === '1' || request.query.per_worker === 'true'
      const { contentType, text } = await wholeRouter.metrics(perWorker)
      return reply.type(contentType).send(text)
    }
    const registry = await deps.registry()
    const text = await registry.metrics()
    return reply.type(registry.contentType).send(text)
  })
}
