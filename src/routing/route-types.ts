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
}

/** Where a route sends its traffic. `origin` names the undici pool for it. */
export interface UnixUpstream {
  readonly kind: 'unix'
  readonly socketPath: string
  readonly socketName: string
  readonly origin: string
}

export type Upstream = UnixUpstream

export type RouteSource = 'discovered'

export interface Route {
  /** Canonical prefix with a trailing slash: `/svc/ui/`. */
  readonly prefix: string
  /** Sent as X-Forwarded-Prefix: the prefix without its trailing slash. */
  readonly forwardedPrefix: string
  /** The decoded path segments the prefix matches, joined by `/`. */
  readonly key: string
  readonly depth: number
  readonly service: string
  readonly upstream: Upstream
  readonly source: RouteSource
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
