import { RESERVED_SERVICE } from '../routing/route-types.js'
import { RouteWindow } from './route-window.js'

/**
 * The `route` label of a request that matched no route (issue #12): one fixed
 * value, so no request path ever becomes a label. Route prefixes always start
 * with `/`, so neither can clash with a route.
 */
export const NO_ROUTE_LABEL = 'none'
/** The `route` label of the router's own endpoints under /_sockrouter/ (dashboard, metrics, health…). */
export const ROUTER_LABEL = RESERVED_SERVICE

/**
 * Upper bounds, in seconds, of `sockrouter_request_duration_seconds`: a local
 * proxy answers in a millisecond or two, and a slow backend may take seconds.
 */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * GatewayError codes that mean the service gave no valid answer (issue #12,
 * `sockrouter_upstream_errors_total`): refused, reset, missing socket or a
 * malformed answer (502), a route whose socket does not exist (503), no
 * answer in time (504). A client that left (499) is not the service's fault.
 */
export const UPSTREAM_ERROR_CODES: ReadonlySet<string> = new Set(['bad_gateway', 'service_unavailable', 'gateway_timeout'])

/** Everything counted for one `route` label since it was first seen: plain numbers, read at scrape time. */
export class RouteRequestCounts {
  /** Answers by status code. */
  readonly codes = new Map<number, number>()
  /** Per bucket of DURATION_BUCKETS, not cumulative; the last one is above 10 s. */
  readonly durationBuckets = new Float64Array(DURATION_BUCKETS.length + 1)
  durationSum = 0
  count = 0
  readonly upstreamErrors = new Map<string, number>()
  bytesIn = 0
  bytesOut = 0
  readonly window: RouteWindow

  constructor (nowMs: number) {
    this.window = new RouteWindow(nowMs)
  }
}

/**
 * Per-route request counters. The request path only adds to numbers here
 * (issue #12: a prom-client child's inc() and observe() hash and validate
 * their labels on every call, about 0.9 µs a request together); the metrics
 * registry turns them into series when it is scraped.
 */
export class RequestCounters {
  readonly #routes = new Map<string, RouteRequestCounts>()

  get routes (): ReadonlyMap<string, RouteRequestCounts> {
    return this.#routes
  }

  /**
   * One finished request: `latencyMs` to the response's end, `failure` the
   * GatewayError code it was answered with, if any, `nowMs` the monotonic
   * time it ended (the caller's reading, reused: a clock read costs 0.2 µs on
   * the 2-core VM).
   */
  record (label: string, status: number, latencyMs: number, bytesIn: number, bytesOut: number, failure: string | null, nowMs: number): void {
    const now = nowMs
    let counts = this.#routes.get(label)
    if (counts === undefined) {
      counts = new RouteRequestCounts(now)
      this.#routes.set(label, counts)
    }
    counts.codes.set(status, (counts.codes.get(status) ?? 0) + 1)
    const seconds = latencyMs / 1000
    let bucket = 0
    while (bucket < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[bucket] as number)) bucket++
    counts.durationBuckets[bucket] = (counts.durationBuckets[bucket] as number) + 1
    counts.durationSum += seconds
    counts.count++
    if (failure !== null && label !== NO_ROUTE_LABEL && label !== ROUTER_LABEL && UPSTREAM_ERROR_CODES.has(failure)) {
      counts.upstreamErrors.set(failure, (counts.upstreamErrors.get(failure) ?? 0) + 1)
    }
    counts.bytesIn += bytesIn
    counts.bytesOut += bytesOut
    counts.window.record(now, latencyMs, status >= 500)
  }

  /**
   * Drops the counters of prefixes no longer routed, so route churn cannot
   * grow the series (issue #12). A request still in flight on a removed
   * route brings its prefix back until the next swap; Prometheus reads the
   * restart from 0 as a counter reset.
   */
  forgetRoutesExcept (live: ReadonlySet<string>): void {
    for (const label of this.#routes.keys()) {
      if (label !== NO_ROUTE_LABEL && label !== ROUTER_LABEL && !live.has(label)) this.#routes.delete(label)
    }
  }
}
