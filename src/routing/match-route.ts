import type { Route, RouteTable } from './route-types.js'
import { decodeNameSegment, type RequestTarget } from './parse-request-target.js'

export interface RouteMatch {
  readonly route: Route
  /** Path and query to send upstream, byte for byte as received. */
  readonly upstreamPath: string
}

/**
 * Longest prefix wins. Segments are decoded only while they can still name a
 * route: the service segment always, the next one only if that service has
 * deeper routes, and so on. So `/flat/a%2Fb` reaches a flat `flat.sock` as
 * `/a%2Fb`, while an encoded `/` in a segment that names a route is a 400.
 * Request text only ever becomes a Map key here; it is never joined into a
 * filesystem path.
 */
export function matchRoute (table: RouteTable, target: RequestTarget): RouteMatch | null {
  const keys: string[] = []
  let key = ''
  for (const segment of target.segments) {
    const name = decodeNameSegment(segment)
    key = keys.length === 0 ? name : `${key}/${name}`
    keys.push(key)
    if (!table.parents.has(key)) break
  }
  for (let depth = keys.length; depth >= 1; depth--) {
    const route = table.byKey.get(keys[depth - 1] as string)
    if (route === undefined) continue
    const rest = target.rawPath.slice(target.segmentEnds[depth - 1])
    return { route, upstreamPath: (rest === '' ? '/' : rest) + target.query }
  }
  return null
}
