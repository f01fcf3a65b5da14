import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { RESERVED_SERVICE } from '../routing/route-types.js'
import { DASHBOARD_SCRIPT } from './dashboard-script.js'
import { DASHBOARD_STYLE } from './dashboard-style.js'

const ICON = 'data:image/svg+xml,' + encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#1a7f37"/><circle cx="8" cy="8" r="3" fill="#fff"/></svg>'
)

const STATS: ReadonlyArray<readonly [string, string]> = [
  ['n-routes', 'routes'], ['n-healthy', 'healthy'], ['n-unhealthy', 'unhealthy'], ['n-unreachable', 'unreachable'],
  ['n-unknown', 'unknown'], ['n-rps', 'req/s'], ['n-tunnels', 'open tunnels']
]

const ROUTE_HEADS: ReadonlyArray<readonly [string, boolean]> = [
  ['Route', false], ['Target', false], ['Source', false], ['Status', false], ['Health', false], ['req/s', true],
  ['Errors', true], ['p50', true], ['p99', true], ['Tunnels', true], ['In', true], ['Out', true]
]

function heads (names: ReadonlyArray<readonly [string, boolean]>): string {
  return names.map(([name, numeric]) => `<th scope="col"${numeric ? ' class="n"' : ''}>${name}</th>`).join('')
}

/**
 * One self-contained page (issue #12): no CDN, no build step, nothing to
 * ship beside the single binary. It starts empty; the script fills it from
 * the live feed. Every URL in it is relative to /_sockrouter/.
 */
export const DASHBOARD_HTML = '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark">' +
  `<title>sockrouter</title><link rel="icon" href="${ICON}"><style>${DASHBOARD_STYLE}</style></head><body>` +
  '<header class="top"><div class="brand"><h1>sockrouter</h1><span id="version" class="muted"></span></div>' +
  '<div class="router"><span id="router-status" class="badge h-unknown">…</span><span id="uptime" class="muted"></span>' +
  '<span id="updated" class="muted"></span><span id="live" class="live">connecting…</span></div></header>' +
  '<main>' +
  `<section class="summary" aria-label="Summary">${STATS.map(([id, label]) => `<div id="${id}" class="stat"><span class="num">–</span><span class="lbl">${label}</span></div>`).join('')}</section>` +
  '<section id="problems" class="panel problems" hidden><div class="panel-head"><h2>Route-file errors</h2></div>' +
  '<ul id="config-errors"></ul><p id="rescan-error" hidden></p></section>' +
  '<section class="panel"><div class="panel-head"><h2>Routes</h2>' +
  '<input id="filter" type="search" placeholder="Filter: prefix, target, health…" aria-label="Filter routes" autocomplete="off"></div>' +
  `<div class="wrap"><table id="routes" class="cards"><thead><tr>${heads(ROUTE_HEADS)}</tr></thead><tbody id="route-rows"></tbody></table></div>` +
  '<p id="no-routes" class="empty" hidden>No routes yet. A socket that appears in the socket directory shows up here within a second.</p>' +
  '<p id="no-match" class="empty" hidden>No route matches the filter.</p></section>' +
  '<section class="panel"><div class="panel-head"><h2>Recent errors <span id="error-count" class="muted"></span></h2></div>' +
  `<div class="wrap"><table id="errors" class="cards" hidden><thead><tr>${heads([['Time', false], ['Route', false], ['Status', true], ['Code', false], ['Request', false]])}</tr></thead>` +
  '<tbody id="error-rows"></tbody></table></div><p id="no-errors" class="empty">No errors recorded.</p></section>' +
  '</main>' +
  '<footer>Live from <a href="events">events</a> (server-sent events) · JSON: <a href="state">state</a> · ' +
  '<a href="routes">routes</a> · <a href="health">health</a> · <a href="metrics">metrics</a></footer>' +
  `<script>${DASHBOARD_SCRIPT}</script></body></html>`

function sha256 (text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`
}

/**
 * Only the page's own inline script and style may run (CSP Level 3, hash
 * sources), and the only connection it may open is the feed on the same
 * origin: even a route name that got into the DOM as markup would stay inert.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(DASHBOARD_SCRIPT)}`,
  `style-src ${sha256(DASHBOARD_STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

/** GET <prefix>/ serves the dashboard; GET <prefix> redirects there (issue #12). */
export function registerDashboardPage (app: FastifyInstance): void {
  // Registered inside the admin plugin (prefix ADMIN_PREFIX): '/' with 'slash' is /_sockrouter/ alone, so that
  // /_sockrouter itself can redirect.
  app.get('/', { prefixTrailingSlash: 'slash' }, async (_request, reply) => {
    reply
      .header('cache-control', 'no-store')
      .header('content-security-policy', DASHBOARD_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
    return DASHBOARD_HTML
  })

  // A relative Location (RFC 9110 §10.2.2) resolves against the URL the client used, so it holds behind a path prefix.
  const slashed = `${RESERVED_SERVICE}/`
  app.get('', async (_request, reply) => reply.code(301).header('location', slashed).header('cache-control', 'no-store').send())
}
