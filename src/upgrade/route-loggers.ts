import type { Logger } from 'pino'
import { routeLogFields } from '../logging/route-log-fields.js'
import type { Route } from '../routing/route-types.js'

/** One child logger per route, not per tunnel: each would live as long as its tunnel. */
export function createRouteLoggers (log: Logger): (route: Route) => Logger {
  const routeLogs = new WeakMap<Route, Logger>()
  return (route) => {
    let child = routeLogs.get(route)
    if (child === undefined) {
      child = log.child(routeLogFields(route))
      routeLogs.set(route, child)
    }
    return child
  }
}
