import type { LoadedRouteFile } from '../config/load-services-dir.js'
import type { RouteOptions } from '../config/route-spec.js'

export type { RouteOptions }

/** A socket found in the socket directory by one full scan. */
export interface DiscoveredSocket {
  /** First path segment of the route. */
  readonly service: string
  /** Second path segment, or null for a flat `DIR/<service>.sock`. */
  readonly name: string | null
  /** Absolute path of the socket file. */
  readonly path: string
  /** Path relative to the socket dir (`svc/ui.sock`): what logs show. */
  readonly relativePath: string
  /** `dev:ino:ctime` of the socket file, so a socket re-created by a new process is a new upstream. */
  readonly identity: string
}

/** Everything discovery saw in one scan, sorted by relativePath. */
export interface SocketSnapshot {
  readonly dir: string
  readonly sockets: readonly DiscoveredSocket[]
  /** Absolute paths of the service directories seen, so each can be watched. */
  readonly serviceDirs: readonly string[]
}

/**
 * Everything the route table is built from, read in one pass: the socket
 * directory, the services.d files in force, and whether each socket those
 * files name exists (its identity, or null when it does not).
 */
export interface RouterSnapshot {
  readonly sockets: SocketSnapshot
  readonly files: readonly LoadedRouteFile[]
  readonly socketStates: ReadonlyMap<string, string | null>
}

/** Where a route sends its traffic. `origin` names the undici pool for it. */
export interface UnixUpstream {
  readonly kind: 'unix'
  readonly socketPath: string
  /** Relative to the socket dir when inside it, else the file name: what logs show. */
  readonly socketName: string
  readonly origin: string
  /** What people read in tables and logs. */
  readonly label: string
}

export interface UrlUpstream {
  readonly kind: 'url'
  /** `http://host:port`, the address connected to. */
  readonly targetOrigin: string
  /** `host:port`, for changeOrigin. */
  readonly targetHost: string
  /** Put in front of every forwarded path; '' for none. */
  readonly basePath: string
  readonly secure: boolean
  readonly origin: string
  readonly label: string
}

export type Upstream = UnixUpstream | UrlUpstream

export type RouteSource = 'discovered' | 'file'

export interface Route {
  /** Canonical prefix with a trailing slash: `/svc/ui/`. */
  readonly prefix: string
  /** Sent as X-Forwarded-Prefix: the prefix without its trailing slash. */
  readonly forwardedPrefix: string
  /** The decoded path segments the prefix matches, joined by `/`. */
  readonly key: string
  readonly service: string
  readonly upstream: Upstream
  readonly source: RouteSource
  /** The services.d file that declared it, for file routes. */
  readonly file: string | null
  /** `down`: a file route whose socket does not exist (yet); answered with 503. */
  readonly status: 'up' | 'down'
  readonly options: RouteOptions
}

/** Immutable: a new table is built for every change and swapped in whole. */
export interface RouteTable {
  readonly routes: readonly Route[]
  readonly byKey: ReadonlyMap<string, Route>
  /** Keys that are a proper prefix of a deeper route's key (`svc` when `svc/ui` exists). */
  readonly parents: ReadonlySet<string>
}

/** The router's own endpoints live here; no service may claim the name. */
export const RESERVED_SERVICE = '_sockrouter'
