import { STATUS_CODES } from 'node:http'
import { RESERVED_SERVICE } from '../routing/route-types.js'
import type { GatewayError } from './gateway-errors.js'

/** Where every error page points: the live dashboard, which shows why (issue #12). */
const DASHBOARD_PATH = `/${RESERVED_SERVICE}/`

/** The statuses a browser gets a page for; any other stays the JSON body (issue #12). */
export const HTML_STATUSES: ReadonlySet<number> = new Set([404, 502, 503, 504])

/**
 * Error pages carry no script and load nothing: only their own inline style
 * may apply, so not even a service name could turn into markup.
 */
export const ERROR_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const HEADLINE: Readonly<Record<number, string>> = {
  404: 'No service is routed here',
  502: 'The service did not answer',
  503: 'The service is not running',
  504: 'The service took too long'
}

const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2328;background:#fff}' +
  'h1{font-size:1.4rem;margin:0 0 .5rem}.code{color:#8b949e;font-weight:400}code{font-size:.9em}a{color:#0969da}' +
  '.dash{margin-top:2rem;padding-top:1rem;border-top:1px solid #d0d7de}' +
  '@media (prefers-color-scheme:dark){body{color:#e6edf3;background:#0d1117}a{color:#4493f8}.dash{border-color:#30363d}}'

export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function routeList (prefixes: readonly string[]): string {
  if (prefixes.length === 0) return '<p>No sockets are routed yet.</p>'
  const items = prefixes.map((p) => `<li><a href="${escapeHtml(p)}">${escapeHtml(p)}</a></li>`).join('')
  return `<p>Routed prefixes:</p><ul>${items}</ul>`
}

/**
 * The page a browser gets for a 404, 502, 503 or 504. The message is the
 * error's fixed text and the service a route name, both escaped; never a
 * cause, errno or path. A 404 also lists what is routed.
 */
export function renderErrorPage (err: GatewayError, prefixes: readonly string[], dashboard = true): string {
  const reason = STATUS_CODES[err.status] ?? 'Error'
  const service = err.service === undefined ? '' : `<p>Service: <code>${escapeHtml(err.service)}</code></p>`
  const retry = err.retryAfter === undefined ? '' : `<p>Try again in ${err.retryAfter} s.</p>`
  return '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${err.status} ${escapeHtml(reason)} · sockrouter</title><style>${STYLE}</style></head><body>` +
    `<h1>${escapeHtml(HEADLINE[err.status] ?? reason)} <span class="code">${err.status}</span></h1>` +
    `<p>${escapeHtml(err.message)}</p>${service}${retry}` +
    (err.status === 404 ? routeList(prefixes) : '') +
    // Not on a listener that does not serve the dashboard (a non-loopback one), where the link would be a 404.
    (dashboard ? `<p class="dash">Every route, its health and its recent errors: <a href="${DASHBOARD_PATH}">the sockrouter dashboard</a>.</p>` : '') +
    '</body></html>'
}
