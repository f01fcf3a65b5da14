import type { Route } from '../routing/route-types.js'
import { resolveCheck, type HealthCheckDefaults } from './health-prober.js'
import { probeRoute } from './probe-route.js'
import type { HealthState } from './route-health.js'

export interface OneShotHealth {
  readonly state: HealthState
  readonly cause: string | null
}

/**
 * What a running router would report for each route after its first probe,
 * for `sockrouter check` (issue #12): a `down` route is `unreachable`, a
 * route not probed (`healthCheck: false`, interval 0) stays `unknown`, and
 * every other route gets one probe, all at once.
 */
export async function probeRoutesOnce (routes: readonly Route[], defaults: HealthCheckDefaults): Promise<OneShotHealth[]> {
  return await Promise.all(routes.map(async (route): Promise<OneShotHealth> => {
    if (route.status === 'down') return { state: 'unreachable', cause: 'socket missing' }
    const check = resolveCheck(route, defaults)
    if (check === null) return { state: 'unknown', cause: null }
    return await probeRoute(route.upstream, check)
  }))
}

/** A HEALTH cell: the state, and why when it is not plainly healthy. */
export function formatHealth (state: string, cause: string | null): string {
  return state === 'healthy' || state === 'unknown' || cause === null ? state : `${state} (${cause})`
}
