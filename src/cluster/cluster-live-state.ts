import { buildLiveState, type ActivitySource, type HealthLookup, type LiveState, type LiveStateDeps } from '../admin/live-state.js'
import type { HealthRecord } from '../health/route-health.js'
import { RECENT_ERRORS, type RecentError } from '../metrics/recent-errors.js'
import { mergeRouteActivity, type RouteActivityCounts, type RouteActivitySample } from '../metrics/route-activity.js'
import type { RouteStore } from '../routing/route-store.js'
import { askEveryWorker, WORKER_REPLY_MS, type WorkerList } from './ask-every-worker.js'
import type { ClusterChannel } from './cluster-channel.js'

/** Primary → worker: that worker's activity. */
const WORKER_ACTIVITY = 'obs:activity'
/** Worker → primary: the whole router's LiveState, for the dashboard, `top` and GET /state a worker serves. */
const ROUTER_STATE = 'obs:router-state'

/** What one worker tells the primary about its traffic and what it has seen of its routes' health. */
export interface WorkerActivity {
  readonly routes: ReadonlyMap<string, RouteActivityCounts>
  /** Newest first. */
  readonly errors: readonly RecentError[]
  /** This worker's health record of each route in its table: the primary's probes plus its own passive marks. */
  readonly health: ReadonlyMap<string, HealthRecord>
}

export interface WorkerActivityDeps {
  readonly store: RouteStore
  readonly activity: { counts (): Map<string, RouteActivityCounts>, recentErrors (): readonly RecentError[] }
  readonly health: HealthLookup
}

export function readWorkerActivity (deps: WorkerActivityDeps): WorkerActivity {
  const health = new Map<string, HealthRecord>()
  for (const { prefix } of deps.store.current.routes) health.set(prefix, deps.health.get(prefix))
  return { routes: deps.activity.counts(), errors: deps.activity.recentErrors(), health }
}

/** In a worker: answers the primary's request for this worker's activity (issue #14). */
export function serveActivity (toPrimary: ClusterChannel, deps: WorkerActivityDeps): void {
  toPrimary.handle(WORKER_ACTIVITY, () => readWorkerActivity(deps))
}

/**
 * Every worker's activity as one (issue #14). Per route, counts add up and
 * the percentiles come from the summed latency buckets
 * (route-activity.ts's mergeRouteActivity); the recent errors are merged
 * newest first and cut to the same 50.
 */
export class RouterActivity implements ActivitySource {
  readonly #parts: readonly WorkerActivity[]

  constructor (parts: readonly WorkerActivity[]) {
    this.#parts = parts
  }

  sample (prefix: string): RouteActivitySample {
    const counts: RouteActivityCounts[] = []
    for (const part of this.#parts) {
      const route = part.routes.get(prefix)
      if (route !== undefined) counts.push(route)
    }
    return mergeRouteActivity(counts)
  }

  recentErrors (): readonly RecentError[] {
    // ISO 8601 times in UTC sort as strings; a stable sort keeps one worker's equal times in its order.
    return this.#parts.flatMap((p) => p.errors).sort((a, b) => a.at < b.at ? 1 : a.at > b.at ? -1 : 0).slice(0, RECENT_ERRORS)
  }

  /**
   * Each route's health as the whole router knows it: the newest evidence
   * wins, whether the primary's probe or a worker's passive mark (a refused
   * connect that worker met). A worker's `unknown` is no evidence: a worker
   * just started has not seen anything yet, and must not hide what the
   * primary knows.
   */
  health (primary: HealthLookup): HealthLookup {
    return {
      get: (prefix) => {
        let best = primary.get(prefix)
        for (const part of this.#parts) {
          const seen = part.health.get(prefix)
          if (seen !== undefined && seen.state !== 'unknown' && seen.since > best.since) best = seen
        }
        return best
      }
    }
  }
}

/** Asks every worker for its activity, leaving out those that cannot answer in time. */
export async function collectRouterActivity (workers: WorkerList, timeoutMs = WORKER_REPLY_MS): Promise<RouterActivity> {
  const replies = await askEveryWorker<WorkerActivity>(workers, WORKER_ACTIVITY, null, timeoutMs)
  return new RouterActivity(replies.map((r) => r.body))
}

/** What the primary builds the router's state from: its own table, health and config, and the workers' activity. */
export type PrimaryStateDeps = Omit<LiveStateDeps, 'activity'>

/** The whole router's LiveState, built in the primary (issue #14). */
export async function buildRouterState (deps: PrimaryStateDeps, workers: WorkerList): Promise<LiveState> {
  const activity = await collectRouterActivity(workers)
  const health = deps.health === undefined ? undefined : activity.health(deps.health)
  return buildLiveState({ ...deps, health, activity })
}

/** In the primary, on one worker's channel: that worker's live feed asks here for the whole router's state. */
export function answerLiveState (toWorker: ClusterChannel, workers: WorkerList, deps: PrimaryStateDeps): void {
  toWorker.handle(ROUTER_STATE, async () => await buildRouterState(deps, workers))
}

/** In a worker: the whole router's state, from the primary. Rejects when the primary cannot answer. */
export async function fetchRouterState (toPrimary: ClusterChannel): Promise<LiveState> {
  return await toPrimary.request<LiveState>(ROUTER_STATE, null, WORKER_REPLY_MS * 2)
}
