import type { TunnelStats } from '../upgrade/tunnel-stats.js'
import type { RecentError, RecentErrors } from './recent-errors.js'
import type { RequestCounters } from './route-counters.js'
import { LATENCY_BUCKETS, percentile } from './route-window.js'

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

/**
 * One route's activity in one worker, unreduced, so the primary can add
 * several workers' up (issue #14, `--workers`): the window's counts and its
 * latency histogram, not percentiles, which cannot be summed.
 */
export interface RouteActivityCounts {
  readonly requests: number
  readonly errors: number
  /** The span the window covers in that worker, ms. */
  readonly spanMs: number
  /** The non-empty latency buckets, flat: bucket, count, bucket, count… */
  readonly latency: readonly number[]
  readonly tunnelsOpen: number
  readonly bytesIn: number
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
 * Several workers' activity on one route as one (issue #14): requests,
 * errors, tunnels and bytes add up, each worker's rate over its own window
 * adds up to the router's, and the percentiles are read from the summed
 * latency buckets, so they stay as exact as one worker's.
 */
export function mergeRouteActivity (parts: readonly RouteActivityCounts[]): RouteActivitySample {
  let requests = 0
  let errors = 0
  let rate = 0
  let tunnelsOpen = 0
  let bytesIn = 0
  let bytesOut = 0
  const latency = new Uint32Array(LATENCY_BUCKETS)
  for (const part of parts) {
    requests += part.requests
    errors += part.errors
    rate += part.requests / (part.spanMs / 1000)
    tunnelsOpen += part.tunnelsOpen
    bytesIn += part.bytesIn
    bytesOut += part.bytesOut
    for (let i = 0; i + 1 < part.latency.length; i += 2) {
      const bucket = part.latency[i] as number
      latency[bucket] = (latency[bucket] as number) + (part.latency[i + 1] as number)
    }
  }
  return {
    requestsPerSecond: round2(rate),
    errorRate: requests === 0 ? 0 : round4(errors / requests),
    p50Ms: requests === 0 ? null : percentile(latency, requests, 0.5),
    p99Ms: requests === 0 ? null : percentile(latency, requests, 0.99),
    tunnelsOpen,
    bytesIn,
    bytesOut
  }
}

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

  /** Every route this worker has counted, unreduced, for the primary to add up (issue #14). */
  counts (): Map<string, RouteActivityCounts> {
    const now = this.#deps.clock()
    const latency = new Uint32Array(LATENCY_BUCKETS)
    const out = new Map<string, RouteActivityCounts>()
    const prefixes = new Set<string>(this.#deps.counters.routes.keys())
    for (const prefix of this.#deps.tunnels.routes.keys()) if (prefix !== null) prefixes.add(prefix)
    for (const prefix of prefixes) {
      const counts = this.#deps.counters.routes.get(prefix)
      const tunnels = this.#deps.tunnels.routes.get(prefix)
      const window = counts?.window.sum(now, latency)
      const buckets: number[] = []
      if (window !== undefined && window.requests > 0) {
        for (let b = 0; b < LATENCY_BUCKETS; b++) if (latency[b] !== 0) buckets.push(b, latency[b] as number)
      }
      out.set(prefix, {
        requests: window?.requests ?? 0,
        errors: window?.errors ?? 0,
        spanMs: window?.spanMs ?? 1000,
        latency: buckets,
        tunnelsOpen: tunnels?.open ?? 0,
        bytesIn: (counts?.bytesIn ?? 0) + (tunnels?.bytesClientToBackend ?? 0),
        bytesOut: (counts?.bytesOut ?? 0) + (tunnels?.bytesBackendToClient ?? 0)
      })
    }
    return out
  }

  /** Newest first, at most 50: 5xx answers, the router's own and the services'. */
  recentErrors (): readonly RecentError[] {
    return this.#deps.errors.list()
  }
}
