import { AggregatorRegistry, Registry, type Metric } from 'prom-client'
import { GatewayError } from '../forward/gateway-errors.js'
import type { HealthLookup } from '../admin/live-state.js'
import type { MetricsText } from '../admin/whole-router.js'
import { createRouterWideRegistry, ROUTER_WIDE_METRICS, type RouterWideDeps } from '../metrics/metrics-registry.js'
import { askEveryWorker, WORKER_REPLY_MS, type WorkerList } from './ask-every-worker.js'
import type { ClusterChannel } from './cluster-channel.js'
import { collectRouterActivity } from './cluster-live-state.js'

/** Primary → worker: that worker's registry as prom-client's JSON, for the per-worker view. */
const WORKER_METRICS = 'obs:metrics-json'
/** Worker → primary: the whole router's metrics, for GET /_sockrouter/metrics a worker serves. */
const ROUTER_METRICS = 'obs:router-metrics'
/** prom-client's clusterMetrics() gives up on a silent worker after 5 s; the worker waits a little longer for its verdict. */
const ROUTER_METRICS_MS = 8000

/** The label the per-worker view adds to every worker's series (`?per_worker=1`, issue #14). */
export const WORKER_LABEL = 'worker'

type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number]

/**
 * In a worker (issue #14): makes this worker's registry, less the
 * router-wide gauges the primary exports once, the one prom-client's cluster
 * aggregation reads (`AggregatorRegistry.setRegistries`), and answers the
 * primary's request for it as JSON. Constructing an AggregatorRegistry is
 * what installs prom-client's own listener for the primary's requests.
 */
export function serveMetrics (toPrimary: ClusterChannel, registry: Registry): void {
  const exported = new Registry()
  // getMetricsAsArray() gives the metric objects themselves, typed as their JSON shape.
  for (const metric of registry.getMetricsAsArray()) {
    if (!ROUTER_WIDE_METRICS.has(metric.name)) exported.registerMetric(metric as unknown as Metric)
  }
  void new AggregatorRegistry()
  AggregatorRegistry.setRegistries([exported])
  toPrimary.handle(WORKER_METRICS, async () => await exported.getMetricsAsJSON())
}

function withWorkerLabel (metrics: readonly MetricJson[], id: string): MetricJson[] {
  return metrics.map((metric) => ({
    ...metric,
    values: metric.values.map((value) => ({ ...value, labels: { ...value.labels, [WORKER_LABEL]: id } }))
  }))
}

/** Two expositions of disjoint metric families as one: each family keeps its HELP, TYPE and samples together. */
function joinExpositions (a: string, b: string): string {
  if (a === '') return b
  return a.endsWith('\n') ? `${a}${b}` : `${a}\n${b}`
}

export interface ClusterMetricsDeps {
  readonly workers: WorkerList
  /** The primary's table, its route health and the services.d errors: what the router knows once. */
  readonly routerWide: RouterWideDeps & { readonly health: HealthLookup }
}

/**
 * The whole router's metrics, in the primary (issue #14). The workers'
 * series are summed by prom-client's cluster aggregation
 * (`AggregatorRegistry.clusterMetrics()`, each metric by its `aggregator`);
 * the router-wide gauges come from the primary's own registry, once. Route
 * health there is the newest evidence of the primary's probes and every
 * worker's passive marks, as the dashboard shows it.
 */
export class ClusterMetrics {
  readonly #workers: WorkerList
  readonly #aggregator = new AggregatorRegistry()
  readonly #primaryHealth: HealthLookup
  #health: HealthLookup
  readonly #own: Registry

  constructor (deps: ClusterMetricsDeps) {
    this.#workers = deps.workers
    this.#primaryHealth = deps.routerWide.health
    this.#health = deps.routerWide.health
    this.#own = createRouterWideRegistry({ ...deps.routerWide, health: { get: (prefix) => this.#health.get(prefix) } })
  }

  /** `perWorker`: every worker's series apart, labelled `worker="<id>"`, instead of summed. */
  async render (perWorker: boolean): Promise<MetricsText> {
    const activity = await collectRouterActivity(this.#workers)
    this.#health = activity.health(this.#primaryHealth)
    const contentType = this.#own.contentType
    if (!perWorker) {
      try {
        const [workers, own] = await Promise.all([this.#aggregator.clusterMetrics(), this.#own.metrics()])
        return { contentType, text: joinExpositions(workers, own) }
      } catch {
        // clusterMetrics() asks every cluster worker and fails whole after 5 s when one is silent: a replacement
        // worker still starting, before prom-client's listener is in. The workers that answer here are summed instead.
      }
    }
    const replies = await askEveryWorker<MetricJson[]>(this.#workers, WORKER_METRICS, null, WORKER_REPLY_MS)
    const parts = [...replies.map((r) => perWorker ? withWorkerLabel(r.body, r.id) : r.body), await this.#own.getMetricsAsJSON()]
    return { contentType, text: await AggregatorRegistry.aggregate(parts).metrics() }
  }
}

/** In the primary, on one worker's channel: that worker's metrics endpoint asks here. */
export function answerMetrics (toWorker: ClusterChannel, metrics: ClusterMetrics): void {
  toWorker.handle(ROUTER_METRICS, async ({ perWorker }: { perWorker: boolean }) => await metrics.render(perWorker))
}

/** In a worker: the whole router's metrics, from the primary; a 503 when it cannot answer. */
export async function fetchRouterMetrics (toPrimary: ClusterChannel, perWorker: boolean): Promise<MetricsText> {
  try {
    return await toPrimary.request<MetricsText>(ROUTER_METRICS, { perWorker }, ROUTER_METRICS_MS)
  } catch {
    throw new GatewayError('service_unavailable', { message: 'The router\'s metrics could not be gathered from its workers.' })
  }
}
