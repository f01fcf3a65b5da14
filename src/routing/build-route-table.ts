import { createHash } from 'node:crypto'
import { RESERVED_SERVICE, type Route, type RouteTable, type SocketSnapshot, type DiscoveredSocket } from './route-types.js'

export interface BuildResult {
  readonly table: RouteTable
  /** Entries that could not become routes, with the reason, for the log. */
  readonly skipped: readonly { readonly relativePath: string, readonly reason: string }[]
}

/** A stable pool name per socket file and identity: a re-created socket gets a fresh pool. */
function originFor (socket: DiscoveredSocket): string {
  const digest = createHash('sha1').update(socket.path).update('\0').update(socket.identity).digest('hex')
  return `http://u${digest.slice(0, 20)}.sock.invalid`
}

function routeFor (socket: DiscoveredSocket): Route {
  const segments = socket.name === null ? [socket.service] : [socket.service, socket.name]
  const forwardedPrefix = '/' + segments.join('/')
  return {
    prefix: forwardedPrefix + '/',
    forwardedPrefix,
    key: segments.join('/'),
    depth: segments.length,
    service: socket.service,
    upstream: {
      kind: 'unix',
      socketPath: socket.path,
      socketName: socket.relativePath,
      origin: originFor(socket)
    },
    source: 'discovered'
  }
}

/**
 * Pure: the same snapshot always gives the same table, whatever order events
 * arrived in (the Traefik file-provider model: snapshots, never deltas).
 */
export function buildRouteTable (snapshot: SocketSnapshot): BuildResult {
  const byKey = new Map<string, Route>()
  const skipped: { relativePath: string, reason: string }[] = []
  const sorted = [...snapshot.sockets].sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0))
  for (const socket of sorted) {
    if (socket.service === RESERVED_SERVICE) {
      skipped.push({ relativePath: socket.relativePath, reason: `the name ${RESERVED_SERVICE} is reserved for the router` })
      continue
    }
    const route = routeFor(socket)
    if (byKey.has(route.key)) {
      skipped.push({ relativePath: socket.relativePath, reason: `prefix ${route.prefix} is already routed` })
      continue
    }
    byKey.set(route.key, route)
  }
  const routes = [...byKey.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0))
  const parents = new Set<string>()
  for (const route of routes) {
    const segments = route.key.split('/')
    for (let depth = 1; depth < segments.length; depth++) parents.add(segments.slice(0, depth).join('/'))
  }
  return { table: Object.freeze({ routes: Object.freeze(routes), byKey, parents }), skipped }
}

export const EMPTY_TABLE: RouteTable = Object.freeze({ routes: Object.freeze([]), byKey: new Map(), parents: new Set<string>() })
