import type { TunnelAdmin } from '../admin/admin-api-deps.js'
import type { HealthLookup } from '../admin/live-state.js'
import type { WholeRouterView } from '../admin/whole-router.js'
import type { RouterMetrics } from '../metrics/router-metrics.js'
import type { RouteStore } from '../routing/route-store.js'
import type { WorkerList } from './ask-every-worker.js'
import type { ClusterChannel } from './cluster-channel.js'
import { answerLiveState, fetchRouterState, serveActivity, type PrimaryStateDeps } from './cluster-live-state.js'
import { answerMetrics, ClusterMetrics, fetchRouterMetrics, serveMetrics } from './cluster-metrics.js'
import { answerTunnels, ClusterTunnels, serveTunnels } from './cluster-tunnels.js'

export interface WorkerObservabilityDeps {
  readonly toPrimary: ClusterChannel
  readonly store: RouteStore
  readonly metrics: RouterMetrics
  readonly health: HealthLookup
  readonly tunnels: TunnelAdmin
}

/** What a worker's admin surface shows with `--workers`: the whole router's, not its own. */
export interface WorkerObservability {
  readonly wholeRouter: WholeRouterView
  readonly tunnels: TunnelAdmin
}

/**
 * In a worker (issue #14): answers the primary's questions about this
 * worker (metrics, activity, tunnels), and gives the admin surface views of
 * the whole router. Loads prom-client at once, before the worker listens:
 * the primary's clusterMetrics() asks every worker, and one without
 * prom-client's listener would never answer. Import this module only with
 * `--workers`, so one process keeps prom-client for its first scrape.
 */
export async function serveWorkerObservability (deps: WorkerObservabilityDeps): Promise<WorkerObservability> {
  const { toPrimary } = deps
  serveMetrics(toPrimary, await deps.metrics.registry())
  serveActivity(toPrimary, { store: deps.store, activity: deps.metrics.activity, health: deps.health })
  serveTunnels(toPrimary, deps.tunnels)
  return {
    wholeRouter: {
      metrics: async (perWorker) => await fetchRouterMetrics(toPrimary, perWorker),
      state: async () => await fetchRouterState(toPrimary)
    },
    tunnels: new ClusterTunnels(deps.tunnels, toPrimary)
  }
}

export interface PrimaryObservabilityDeps {
  readonly workers: WorkerList
  /** The primary's table, health (its probes), services.d errors, rescan failure, start time and version. */
  readonly state: PrimaryStateDeps & { readonly health: HealthLookup }
}

/**
 * In the primary (issue #14): answers each worker's questions about the
 * whole router by asking every worker. `attach` each worker's channel as
 * the worker is forked.
 */
export class PrimaryObservability {
  readonly #deps: PrimaryObservabilityDeps
  readonly #metrics: ClusterMetrics

  constructor (deps: PrimaryObservabilityDeps) {
    this.#deps = deps
    this.#metrics = new ClusterMetrics({ workers: deps.workers, routerWide: deps.state })
  }

  /** What the router-wide metrics render, here for tests and the primary's own use. */
  get metrics (): ClusterMetrics {
    return this.#metrics
  }

  attach (toWorker: ClusterChannel): void {
    answerMetrics(toWorker, this.#metrics)
    answerLiveState(toWorker, this.#deps.workers, this.#deps.state)
    answerTunnels(toWorker, this.#deps.workers)
  }
}
