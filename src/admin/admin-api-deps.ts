import type { LoadedRouteFile } from '../config/load-services-dir.js'
import type { RescanFailure } from '../discovery/snapshot-source.js'
import type { Skipped } from '../routing/build-route-table.js'
import type { RouteChange } from '../routing/diff-route-tables.js'
import { diffRouteTables } from '../routing/diff-route-tables.js'
import type { RouteStore } from '../routing/route-store.js'
import type { Route } from '../routing/route-types.js'
import type { TunnelInfo } from '../upgrade/tunnel-registry.js'

/**
 * What the tunnels API lists and cuts: the router's TunnelRegistry, or with
 * `--workers` every worker's, through the primary (issue #14).
 */
export interface TunnelAdmin {
  list (): readonly TunnelInfo[] | Promise<readonly TunnelInfo[]>
  /** True once the tunnel's sockets are closed; false when no open tunnel has that id. */
  close (id: string): Promise<boolean>
}

/** What the admin API (issue #12) reads and drives, on top of the read-only endpoints' AdminDeps. */
export interface AdminApiDeps {
  readonly store: RouteStore
  /** null: no services.d configured, so route files cannot be written. */
  readonly servicesDir: string | null
  /** Relative `socket:` paths in route files resolve against it. */
  readonly socketDir: string
  /** The services.d files of the snapshot in force, with their errors. */
  readonly routeFiles: () => readonly LoadedRouteFile[]
  /** What SIGHUP does (RunningRouter.rescan): resolves once the rescanned table is in force, or the rescan failed. */
  readonly rescan: () => Promise<void>
  readonly rescanFailure: () => RescanFailure | null
  readonly configErrors: () => readonly string[]
  /** Routes the table build left out (a duplicate prefix): a write that causes one says so (issue #12). */
  readonly skipped: () => readonly Skipped[]
  readonly tunnels: TunnelAdmin
}

export interface RouteView {
  readonly prefix: string
  /** The socket name relative to the socket dir, or the URL. */
  readonly target: string
  readonly status: 'up' | 'down'
}

export interface ChangeView extends RouteView {
  readonly change: RouteChange['kind']
}

export function viewRoute (route: Route): RouteView {
  return { prefix: route.prefix, target: route.upstream.label, status: route.status }
}

/** Runs `act`, then a full rescan, and says what that changed in the table in force. */
export async function changesAfter (deps: AdminApiDeps, act: () => Promise<void>): Promise<ChangeView[]> {
  const before = deps.store.current
  await act()
  await deps.rescan()
  return diffRouteTables(before, deps.store.current).map((c) => ({ change: c.kind, ...viewRoute(c.route) }))
}

export function rescanErrorView (deps: AdminApiDeps): { message: string, since: string } | null {
  const failure = deps.rescanFailure()
  return failure === null ? null : { message: failure.message, since: failure.since }
}
