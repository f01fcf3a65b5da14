import type { Route } from '../routing/route-types.js'

/** The stable log fields for a route: `service`, and `socket` as a name (never a path) or `upstream` for URL targets. */
export function routeLogFields (route: Route | undefined): { service?: string, socket?: string, upstream?: string } {
  if (route === undefined) return {}
  return route.upstream.kind === 'unix'
    ? { service: route.service, socket: route.upstream.socketName }
    : { service: route.service, upstream: route.upstream.label }
}
