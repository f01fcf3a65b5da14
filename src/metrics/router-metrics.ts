import { performance } from 'node:perf_hooks'
import type { Registry } from 'prom-client'
import type { RouteStore } from '../routing/route-store.js'
import type { TunnelStats, UpgradeRefusal } from '../upgrade/tunnel-stats.js'
import type { HealthLookup } from './metrics-registry.js'
import { errorPath, RecentErrors } from './recent-errors.js'
import { RouteActivity } from './route-activity.js'
import { RequestCounters } from './route-counters.js'

/** Ten minutes: several scrapes at any usual interval, so a restart shows as the same series going on. */
const FORGET_AFTER_MS = 10 * 60_000

export interface RouterMetricsDeps {
  readonly store: RouteStore
  readonly tunnels: TunnelStats
  readonly configErrors: () => readonly string[]
  /** Route health (src/health/route-health.ts); without it `sockrouter_route_health` says `unknown`. */
  readonly health?: HealthLookup
  /** How long a prefix that left the table keeps its series (default FORGET_AFTER_MS); a test seam. */
  readonly forgetAfterMs?: number
  /** Monotonic ms the activity windows are read at: performance.now(), as the request hook's times are. A test seam. */
  readonly clock?: () => number
}

/** What the request hook (request-metrics.ts) reports, once per request. */
export interface RequestRecorder {
  /** `startedMs` and `endedMs` on performance.now()'s clock. */
  recordRequest (label: string, prefix: string | null, method: string, url: string, status: number, startedMs: number, endedMs: number, bytesIn: number, bytesOut: number, failure: string | null): void
}

/**
 * Everything issue #12 counts, in one object: the plain per-route counters
 * the request and tunnel paths add to, the activity the dashboard reads,
 * the recent errors, and the Prometheus registry that exports them.
 * prom-client itself is loaded on the first scrape: requiring it takes
 * 20–70 ms on the 2-core box, against the 200 ms start-up target (issue #11).
 */
export class RouterMetrics implements RequestRecorder {
  readonly counters: RequestCounters
  readonly activity: RouteActivity
  readonly #errors = new RecentErrors()
  readonly #deps: RouterMetricsDeps
  #registry: Promise<Registry> | null = null

  constructor (deps: RouterMetricsDeps) {
    this.#deps = deps
    const clock = deps.clock ?? (() => performance.now())
    this.counters = new RequestCounters()
    this.activity = new RouteActivity({ counters: this.counters, tunnels: deps.tunnels, errors: this.#errors, clock })
    // A route that leaves the table keeps its series for a while: a service restarting (socket removed, then
    // re-created) must not wipe the 502s it caused before the next scrape (found by a new-user trial, issue #12).
    // Only prefixes gone for longer are dropped, so route churn still cannot grow the series without bound.
    const forgetAfterMs = deps.forgetAfterMs ?? FORGET_AFTER_MS
    const goneSince = new Map<string, number>()
    deps.store.on('swap', ({ current }) => {
      const now = clock()
      const live = new Set(current.routes.map((r) => r.prefix))
      for (const prefix of [...this.counters.routes.keys(), ...deps.tunnels.routes.keys()]) {
        if (prefix !== null && !live.has(prefix) && !goneSince.has(prefix)) goneSince.set(prefix, now)
      }
      const keep = new Set(live)
      for (const [prefix, since] of goneSince) {
        if (live.has(prefix) || now - since >= forgetAfterMs) goneSince.delete(prefix)
        else keep.add(prefix)
      }
      this.counters.forgetRoutesExcept(keep)
      deps.tunnels.forgetRoutesExcept(keep)
    })
    deps.tunnels.on('refusal', (refusal) => this.#noteRefusal(refusal))
  }

  /** The Prometheus registry, created (and prom-client loaded) on first use. */
  registry (): Promise<Registry> {
    this.#registry ??= import('./metrics-registry.js').then(({ createMetricsRegistry }) => createMetricsRegistry({
      counters: this.counters,
      tunnels: this.#deps.tunnels,
      store: this.#deps.store,
      configErrors: this.#deps.configErrors,
      health: this.#deps.health
    }))
    return this.#registry
  }

  recordRequest (label: string, prefix: string | null, method: string, url: string, status: number, startedMs: number, endedMs: number, bytesIn: number, bytesOut: number, failure: string | null): void {
    this.counters.record(label, status, endedMs - startedMs, bytesIn, bytesOut, failure, endedMs)
    if (status >= 500) {
      this.#errors.add({ at: new Date().toISOString(), route: prefix, method, path: errorPath(url), status, code: failure ?? 'backend_5xx' })
    }
  }

  /** A WebSocket handshake answered with a 5xx by the router joins the recent errors too. */
  #noteRefusal (refusal: UpgradeRefusal): void {
    const failure = refusal.failure
    if (failure === null || failure.status < 500) return
    this.#errors.add({ at: new Date().toISOString(), route: refusal.prefix, method: 'GET', path: errorPath(refusal.url), status: failure.status, code: failure.code })
  }
}
