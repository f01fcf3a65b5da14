import type { Route } from '../routing/route-types.js'

/**
 * nginx's `proxy_redirect default` for a prefix route: a backend that thinks
 * it lives at `/` (or at its rewrite path, or at its URL target) redirects to
 * `/login`; the client must be sent to `/<prefix>/login`. Locations already
 * under the prefix, other hosts and relative references are left alone.
 */
export function rewriteLocation (location: string, route: Route): string {
  const { options, upstream, forwardedPrefix } = route
  if (!options.rewriteLocation || !options.stripPrefix) return location
  let path = location
  if (upstream.kind === 'url') {
    const targetRoot = upstream.targetOrigin + upstream.basePath
    if (location === targetRoot || location.startsWith(targetRoot + '/') || location.startsWith(targetRoot + '?')) {
      path = location.slice(upstream.targetOrigin.length)
    }
  }
  if (!path.startsWith('/') || path.startsWith('//')) return location
  if (upstream.kind === 'url' && upstream.basePath !== '') {
    if (path !== upstream.basePath && !path.startsWith(upstream.basePath + '/') && !path.startsWith(upstream.basePath + '?')) return location
    path = path.slice(upstream.basePath.length)
    if (!path.startsWith('/')) path = '/' + path
  }
  if (path === forwardedPrefix || path.startsWith(forwardedPrefix + '/') || path.startsWith(forwardedPrefix + '?')) return path
  // Segment-aware: with rewrite `/api`, `/api/x` maps back but `/apifoo` does not.
  const base = options.rewrite.replace(/\/+$/, '')
  if (base !== '' && (path === base || path.startsWith(base + '/') || path.startsWith(base + '?'))) {
    path = '/' + path.slice(base.length).replace(/^\//, '')
  }
  return forwardedPrefix + path
}
