import type { Route, RouteTable } from './route-types.js'

export interface RouteChange {
  readonly kind: 'added' | 'removed' | 'changed'
  readonly route: Route
}

function describeTarget (route: Route): string {
  return route.upstream.socketName
}

/** What changed between two tables, in prefix order, for the log and for pool clean-up. */
export function diffRouteTables (before: RouteTable, after: RouteTable): RouteChange[] {
  const changes: RouteChange[] = []
  for (const route of after.routes) {
    const old = before.byKey.get(route.key)
    if (old === undefined) changes.push({ kind: 'added', route })
    else if (old.upstream.origin !== route.upstream.origin || describeTarget(old) !== describeTarget(route)) changes.push({ kind: 'changed', route })
  }
  for (const route of before.routes) {
    if (!after.byKey.has(route.key)) changes.push({ kind: 'removed', route })
  }
  return changes.sort((a, b) => (a.route.prefix < b.route.prefix ? -1 : a.route.prefix > b.route.prefix ? 1 : 0))
}

export function describeChange (change: RouteChange): string {
  const target = describeTarget(change.route)
  return change.kind === 'removed'
    ? `route removed ${change.route.prefix}`
    : `route ${change.kind} ${change.route.prefix} -> ${target}`
}
