import type { Route, RouteTable } from './route-types.js'
import { decodeNameSegment, namedSegmentCount, type RequestTarget } from './parse-request-target.js'

export interface RouteMatch {
  readonly route: Route
  /** Path and query to send upstream, byte for byte as received. */
  readonly upstreamPath: string
}

/**
 * Longest prefix wins: try the deepest prefix the table has, then shorter ones.
 * Request text only ever becomes a Map key here; it is never joined into a
 * filesystem path.
 */
export function matchRoute (table: RouteTable, target: RequestTarget): RouteMatch | null {
  const checked = Math.min(namedSegmentCount(table.maxDepth), target.segments.length)
  const names: string[] = []
  for (let i = 0; i < checked; i++) names.push(decodeNameSegment(target.segments[i] as string))
  for (let depth = Math.min(table.maxDepth, names.length); depth >= 1; depth--) {
    const route = table.byKey.get(depth === 1 ? names[0] as string : names.slice(0, depth).join('/'))
    if (route === undefined) continue
    const rest = target.rawPath.slice(target.segmentEnds[depth - 1])
    return { route, upstreamPath: (rest === '' ? '/' : rest) + target.query }
  }
  return null
}
