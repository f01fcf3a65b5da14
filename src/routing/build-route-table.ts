import { createHash } from 'node:crypto'
import { basename, relative, sep } from 'node:path'
import { ROUTE_PROPERTIES as P } from '../config/route-file-schema.js'
import { NO_HEADER_RULES, NO_HEALTH_CHECK, type RouteSpec } from '../config/route-spec.js'
import {
  RESERVED_SERVICE,
  type DiscoveredSocket,
  type Route,
  type RouteOptions,
  type RouterSnapshot,
  type RouteTable,
  type Upstream
} from './route-types.js'

/** Why something in the snapshot did not become a route, for the log. */
export interface Skipped {
  readonly what: string
  readonly reason: string
}

export interface BuildResult {
  readonly table: RouteTable
  readonly skipped: readonly Skipped[]
  /** Prefixes where a services.d route replaced a discovered one. */
  readonly overrides: readonly string[]
}

export const DEFAULT_ROUTE_OPTIONS: RouteOptions = Object.freeze({
  stripPrefix: P.stripPrefix.default,
  rewrite: P.rewrite.default,
  websocket: P.websocket.default,
  requestHeaders: NO_HEADER_RULES,
  responseHeaders: NO_HEADER_RULES,
  changeOrigin: P.changeOrigin.default,
  allowedOrigins: Object.freeze([]),
  timeouts: Object.freeze({}),
  maxTunnels: null,
  rewriteLocation: P.rewriteLocation.default,
  healthCheck: NO_HEALTH_CHECK
})

/** A stable pool name per target: a re-created socket (new identity) gets a fresh pool. */
function poolOrigin (...parts: string[]): string {
  const digest = createHash('sha1').update(parts.join('\0')).digest('hex')
  return `http://u${digest.slice(0, 20)}.sock.invalid`
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function prefixParts (segments: readonly string[]): Pick<Route, 'prefix' | 'forwardedPrefix' | 'key' | 'service'> {
  const forwardedPrefix = '/' + segments.join('/')
  return { prefix: forwardedPrefix + '/', forwardedPrefix, key: segments.join('/'), service: segments[0] as string }
}

function discoveredRoute (socket: DiscoveredSocket): Route {
  return {
    ...prefixParts(socket.name === null ? [socket.service] : [socket.service, socket.name]),
    upstream: { kind: 'unix', socketPath: socket.path, socketName: socket.relativePath, label: socket.relativePath, origin: poolOrigin(socket.path, socket.identity) },
    source: 'discovered',
    file: null,
    status: 'up',
    options: DEFAULT_ROUTE_OPTIONS
  }
}

function socketNameFor (socketPath: string, socketDir: string): string {
  const rel = relative(socketDir, socketPath)
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : basename(socketPath)
}

/** The RouteOptions part of a spec, so a route does not carry its file position or target twice. */
function routeOptionsOf ({ prefix: _prefix, target: _target, file: _file, index: _index, ...options }: RouteSpec): RouteOptions {
  return options
}

function fileRoute (spec: RouteSpec, snapshot: RouterSnapshot): Route {
  const { target } = spec
  let upstream: Upstream
  let status: Route['status'] = 'up'
  if (target.kind === 'socket') {
    const identity = snapshot.socketStates.get(target.socketPath) ?? null
    if (identity === null) status = 'down'
    const socketName = socketNameFor(target.socketPath, snapshot.sockets.dir)
    upstream = { kind: 'unix', socketPath: target.socketPath, socketName, label: socketName, origin: poolOrigin(target.socketPath, identity ?? 'down', spec.file, String(spec.index)) }
  } else {
    const url = new URL(target.origin)
    upstream = {
      kind: 'url',
      targetOrigin: target.origin,
      targetHost: url.host,
      basePath: target.basePath,
      secure: target.secure,
      label: target.origin + target.basePath,
      origin: poolOrigin(target.origin, spec.file, String(spec.index))
    }
  }
  return {
    ...prefixParts(spec.prefix.split('/').slice(1)),
    upstream,
    source: 'file',
    file: spec.file,
    status,
    options: routeOptionsOf(spec)
  }
}

/**
 * Pure: the same snapshot always gives the same table, whatever order events
 * arrived in (the Traefik file-provider model: snapshots, never deltas).
 * Precedence (issue #4): a services.d route beats a discovered one with the
 * same prefix; between files, the first file by name wins; longest prefix
 * wins at lookup time.
 */
export function buildRouteTable (snapshot: RouterSnapshot): BuildResult {
  const byKey = new Map<string, Route>()
  const skipped: Skipped[] = []
  const overrides: string[] = []

  for (const loaded of [...snapshot.files].sort((a, b) => compare(a.file, b.file))) {
    for (const spec of loaded.specs) {
      const route = fileRoute(spec, snapshot)
      const taken = byKey.get(route.key)
      if (taken !== undefined) {
        skipped.push({ what: `${spec.file} routes[${spec.index}]`, reason: `prefix ${route.prefix} is already declared by ${String(taken.file)}` })
        continue
      }
      byKey.set(route.key, route)
    }
  }

  for (const socket of [...snapshot.sockets.sockets].sort((a, b) => compare(a.relativePath, b.relativePath))) {
    if (socket.service === RESERVED_SERVICE) {
      skipped.push({ what: socket.relativePath, reason: `the name ${RESERVED_SERVICE} is reserved for the router` })
      continue
    }
    const route = discoveredRoute(socket)
    const taken = byKey.get(route.key)
    if (taken !== undefined) {
      overrides.push(route.prefix)
      continue
    }
    byKey.set(route.key, route)
  }

  const routes = [...byKey.values()].sort((a, b) => compare(a.prefix, b.prefix))
  const parents = new Set<string>()
  for (const route of routes) {
    const segments = route.key.split('/')
    for (let depth = 1; depth < segments.length; depth++) parents.add(segments.slice(0, depth).join('/'))
  }
  return { table: Object.freeze({ routes: Object.freeze(routes), byKey, parents }), skipped, overrides }
}

export const EMPTY_TABLE: RouteTable = Object.freeze({ routes: Object.freeze([]), byKey: new Map(), parents: new Set<string>() })

/** A snapshot with discovered sockets only (no services.d). */
export function socketsOnly (sockets: Pick<RouterSnapshot['sockets'], 'dir' | 'sockets'>): RouterSnapshot {
  return { sockets: { serviceDirs: [], ...sockets }, files: [], socketStates: new Map() }
}
