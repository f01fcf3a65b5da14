import type { Route, RouteTable } from './route-types.js'

export interface RouteChange {
  readonly kind: 'added' | 'removed' | 'changed'
  readonly route: Route
}

/** Everything that makes two routes behave differently, for change detection. */
function fingerprint (route: Route): string {
  return JSON.stringify([route.upstream, route.status, route.source, route.file, route.options])
}

/** What changed between two tables, in prefix order, for the log. */
export function diffRouteTables (before: RouteTable, after: RouteTable): RouteChange[] {
  const changes: RouteChange[] = []
  for (const route of after.routes) {
    const old = before.byKey.get(route.key)
    if (old === undefined) changes.push({ kind: 'added', route })
    else if (fingerprint(old) !== fingerprint(route)) changes.push({ kind: 'changed', route })
  }
  for (const route of before.routes) {
    if (!after.byKey.has(route.key)) changes.push({ kind: 'removed', route })
  }
  return changes.sort((a, b) => (a.route.prefix < b.route.prefix ? -1 : a.route.prefix > b.route.prefix ? 1 : 0))
}

export function describeChange (change: RouteChange): string {
  const { route } = change
  if (change.kind === 'removed') return `route removed ${route.prefix}`
  const down = route.status === 'down' ? ' (down: no socket yet)' : ''
  return `route ${change.kind} ${route.prefix} -> ${route.upstream.label}${down}`
}
