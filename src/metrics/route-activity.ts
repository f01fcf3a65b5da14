import type { TunnelStats } from '../upgrade/tunnel-stats.js'
import type { RecentError, RecentErrors } from './recent-errors.js'
import type { RequestCounters } from './route-counters.js'

export type { RecentError }

/** One route's recent traffic, for the dashboard and `sockrouter top` (issue #12, contract §2). */
export interface RouteActivitySample {
  /** Over the last 10 s window (or since the route's first request, when that is sooner). */
  readonly requestsPerSecond: number
  /** 0..1: share of 5xx answers in the same window. */
  readonly errorRate: number
  /** Latency to the response end, same window; null when no requests. */
  readonly p50Ms: number | null
  readonly p99Ms: number | null
  readonly tunnelsOpen: number
  /** Totals since start: request bodies + tunnel client→backend. */
  readonly bytesIn: number
  /** Response bytes (head included) + tunnel backend→client. */
  readonly bytesOut: number
}

export interface RouteActivityDeps {
  readonly counters: RequestCounters
  readonly tunnels: TunnelStats
  readonly errors: RecentErrors
  /** Monotonic ms, the clock the counters' windows use. */
  readonly clock: () => number
}

const round2 = (n: number): number => Math.round(n * 100) / 100
const round4 = (n: number): number => Math.round(n * 10_000) / 10_000

/**
 * Per-route activity read from the same counters the metrics endpoint
 * exports; a sample costs one pass over the route's ten slots, and nothing
 * is computed between samples.
 */
export class RouteActivity {
  readonly #deps: RouteActivityDeps

  constructor (deps: RouteActivityDeps) {
    this.#deps = deps
  }

  sample (prefix: string): RouteActivitySample {
    const counts = this.#deps.counters.routes.get(prefix)
    const tunnels = this.#deps.tunnels.routes.get(prefix)
    const window = counts?.window.summarize(this.#deps.clock())
    const requests = window?.requests ?? 0
    return {
      requestsPerSecond: window === undefined ? 0 : round2(requests / (window.spanMs / 1000)),
      errorRate: window === undefined || requests === 0 ? 0 : round4(window.errors / requests),
      p50Ms: window?.p50Ms ?? null,
      p99Ms: window?.p99Ms ?? null,
      tunnelsOpen: tunnels?.open ?? 0,
      bytesIn: (counts?.bytesIn ?? 0) + (tunnels?.bytesClientToBackend ?? 0),
      bytesOut: (counts?.bytesOut ?? 0) + (tunnels?.bytesBackendToClient ?? 0)
    }
  }

  /** Newest first, at most 50: 5xx answers, the router's own and the services'. */
  recentErrors (): readonly RecentError[] {
    return this.#deps.errors.list()
  }
}
