import type { RescanFailure } from '../discovery/snapshot-source.js'
import type { RouteStore } from '../routing/route-store.js'
import type { Route } from '../routing/route-types.js'
import { viewHealth, type HealthRecord, type HealthState } from '../health/route-health.js'
import type { RecentError } from '../metrics/recent-errors.js'
import type { RouteActivitySample } from '../metrics/route-activity.js'

export type { HealthRecord, HealthState, RecentError, RouteActivitySample }

/** The little of health/route-health.ts's RouteHealth a state is built from. */
export interface HealthLookup {
  get (prefix: string): HealthRecord
}

/** The little of health/route-health.ts's RouteHealth the feed reads. */
export interface HealthSource extends HealthLookup {
  on (event: 'change', listener: () => void): unknown
  off (event: 'change', listener: () => void): unknown
}

/** The little of metrics/route-activity.ts's RouteActivity the feed reads. */
export interface ActivitySource {
  sample (prefix: string): RouteActivitySample
  recentErrors (): readonly RecentError[]
}

export interface LiveRoute extends RouteActivitySample {
  readonly prefix: string
  readonly service: string
  readonly source: 'discovered' | 'file'
  readonly file: string | null
  readonly status: 'up' | 'down'
  /** The socket's name relative to the socket dir, or the URL target's label: never an absolute path. */
  readonly target: string
  readonly websocket: boolean
  readonly health: HealthState
  readonly healthSince: string | null
  readonly healthCause: string | null
}

/** What GET /_sockrouter/state answers and /_sockrouter/events sends (issue #12 contract §4). */
export interface LiveState {
  readonly at: string
  readonly router: {
    readonly status: 'ok' | 'degraded'
    readonly uptimeSeconds: number
    readonly version: string
    readonly configErrors: readonly string[]
    readonly rescanError: { readonly message: string, readonly since: string } | null
  }
  readonly health: Record<HealthState, number>
  readonly routes: readonly LiveRoute[]
  /** Newest first. */
  readonly errors: readonly RecentError[]
}

/** What every view of the router's state reads: the state endpoints here, the admin routes (admin-routes.ts) and the live feed. */
export interface RouterStateSources {
  readonly store: RouteStore
  readonly startedAt: number
  /** Current services.d errors (issue #4). */
  readonly configErrors: () => readonly string[]
  /** Why the latest rescan failed, or null (issue #10). */
  readonly rescanFailure: () => RescanFailure | null
  /** Per-route traffic (issue #12 item 2); without it zeros, no latencies and no errors. */
  readonly activity?: ActivitySource
}

export interface LiveStateDeps extends RouterStateSources {
  readonly version: string
  /** Routes the table build left out (a duplicate prefix): shown with the file errors, as `sockrouter check` does. */
  readonly skipped?: () => readonly { readonly what: string, readonly reason: string }[]
  /** Route health (issue #12 item 1); without it every route is 'unknown'. */
  readonly health?: HealthLookup
}

const NO_ACTIVITY: RouteActivitySample = Object.freeze({
  requestsPerSecond: 0,
  errorRate: 0,
  p50Ms: null,
  p99Ms: null,
  tunnelsOpen: 0,
  bytesIn: 0,
  bytesOut: 0
})

function liveRoute (route: Route, deps: LiveStateDeps): LiveRoute {
  const activity = deps.activity?.sample(route.prefix) ?? NO_ACTIVITY
  return {
    prefix: route.prefix,
    service: route.service,
    source: route.source,
    file: route.file,
    status: route.status,
    target: route.upstream.kind === 'unix' ? route.upstream.socketName : route.upstream.label,
    websocket: route.options.websocket,
    ...viewHealth(deps.health?.get(route.prefix)),
    requestsPerSecond: activity.requestsPerSecond,
    errorRate: activity.errorRate,
    p50Ms: activity.p50Ms,
    p99Ms: activity.p99Ms,
    tunnelsOpen: activity.tunnelsOpen,
    bytesIn: activity.bytesIn,
    bytesOut: activity.bytesOut
  }
}

function countHealth (routes: readonly LiveRoute[]): Record<HealthState, number> {
  const counts: Record<HealthState, number> = { healthy: 0, unhealthy: 0, unreachable: 0, unknown: 0 }
  for (const route of routes) counts[route.health]++
  return counts
}

/**
 * One full snapshot of what the dashboard and `sockrouter top` show, built
 * from the current table each time: a reader never has to merge deltas, and
 * a missed event costs nothing (Traefik's snapshots, not deltas).
 */
export function buildLiveState (deps: LiveStateDeps, now = Date.now()): LiveState {
  const configErrors = [...deps.configErrors(), ...(deps.skipped?.() ?? []).map((s) => `${s.what}: ${s.reason}`)]
  const rescanFailure = deps.rescanFailure()
  const routes = deps.store.current.routes.map((route) => liveRoute(route, deps))
  return {
    at: new Date(now).toISOString(),
    router: {
      // The same rule as GET /_sockrouter/health (admin-routes.ts).
      status: configErrors.length === 0 && rescanFailure === null ? 'ok' : 'degraded',
      uptimeSeconds: Math.round((now - deps.startedAt) / 1000),
      version: deps.version,
      configErrors,
      rescanError: rescanFailure === null ? null : { message: rescanFailure.message, since: rescanFailure.since }
    },
    // Counted from the rows themselves rather than asked of the health side, so the totals always match the list.
    health: countHealth(routes),
    routes,
    errors: deps.activity?.recentErrors() ?? []
  }
}
