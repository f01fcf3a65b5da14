import type { Route, RouteTable } from './route-types.js'
import { decodeNameSegment, type RequestTarget } from './parse-request-target.js'

export interface RouteMatch {
  readonly route: Route
  /** Path and query to send upstream; the part after the prefix is byte for byte as received. */
  readonly upstreamPath: string
  /** The path is the prefix itself, without its trailing slash (`/svc/ui`). */
  readonly atPrefix: boolean
}

/** `rewrite` + what followed the prefix, with one slash between them. */
function joinRewrite (rewrite: string, rest: string): string {
  if (rest === '') return rewrite
  return rewrite.endsWith('/') ? rewrite + rest.slice(1) : rewrite + rest
}

/**
 * The path the backend sees: the prefix replaced by `rewrite` (default `/`),
 * or the whole path when `stripPrefix` is off, behind a URL target's base
 * path. The query is appended untouched.
 */
function upstreamPathFor (route: Route, target: RequestTarget, prefixEnd: number): string {
  const { stripPrefix, rewrite } = route.options
  const base = route.upstream.kind === 'url' ? route.upstream.basePath : ''
  const path = stripPrefix ? joinRewrite(rewrite, target.rawPath.slice(prefixEnd)) : target.rawPath
  return base + path + target.query
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
    const prefixEnd = target.segmentEnds[depth - 1] as number
    return { route, upstreamPath: upstreamPathFor(route, target, prefixEnd), atPrefix: prefixEnd === target.rawPath.length }
  }
  return null
}
