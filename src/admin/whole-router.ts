import type { LiveState } from './live-state.js'

/** One Prometheus exposition, as GET /_sockrouter/metrics sends it. */
export interface MetricsText {
  readonly contentType: string
  readonly text: string
}

/**
 * With `--workers` (issue #14), what a worker's admin surface shows comes
 * from the primary, which asks every worker: the metrics, and the state the
 * dashboard and `sockrouter top` read. Left out, this process is the whole
 * router and answers from its own counters.
 */
export interface WholeRouterView {
  /** `perWorker`: each worker's series apart, labelled `worker="<id>"`. */
  metrics (perWorker: boolean): Promise<MetricsText>
  state (): Promise<LiveState>
}
