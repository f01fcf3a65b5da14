import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GatewayError } from '../forward/gateway-errors.js'
import { isHttp2Request } from '../forward/is-http2-request.js'
import { sendGatewayError } from '../forward/error-response.js'
import { formatHttpAuthority } from '../routing/parse-host.js'
import { requestHost } from '../routing/request-host.js'
import type { AdminAccess } from './admin-access.js'
import type { AdminApiDeps } from './admin-api-deps.js'
import { ADMIN_PREFIX, registerAdminRoutes, type AdminDeps } from './admin-routes.js'
import { registerReloadApi } from './reload-api.js'
import { registerRouteFilesApi } from './route-files-api.js'
import { registerTunnelsApi } from './tunnels-api.js'

export interface AdminPluginOptions {
  readonly deps: AdminDeps
  /** null: no admin API (a server built alone, in tests); the read-only endpoints still answer. */
  readonly api: AdminApiDeps | null
  /** How much of the surface the listener a request came in on may see (admin-access.ts). */
  readonly access: (request: FastifyRequest) => AdminAccess
}

const HEALTH_URL = `${ADMIN_PREFIX}/health`
/**
 * Route files may hold credentials (a `requestHeaders.set` of Authorization), and new ones are written 0600 for
 * that reason: reading them through the API is as privileged as writing them (found by a new-user trial, issue #12).
 */
const ROUTE_FILES_URL = `${ADMIN_PREFIX}/api/route-files`

function isRead (method: string): boolean {
  return method === 'GET' || method === 'HEAD'
}

/**
 * A browser sends Origin with every cross-origin POST, PUT and DELETE; a
 * page elsewhere must not drive the API of a router on localhost (CSRF), and
 * the Host guard alone lets a plain form POST through. Same-origin (the
 * dashboard) and clients without Origin (curl) may write.
 */
function checkWriteOrigin (request: FastifyRequest): GatewayError | null {
  const origin = request.headers.origin
  if (origin === undefined) return null
  const host = requestHost(request.raw)
  let authority: string | null = null
  try {
    authority = new URL(origin).host
  } catch {
    authority = null
  }
  if (host !== null && authority === formatHttpAuthority(host)) return null
  return new GatewayError('forbidden', { message: 'Cross-origin writes to the admin API are refused.' })
}

/**
 * The listener decides (issue #12): on a non-loopback public listener only
 * the health endpoint exists, and every other admin path is the same 404 as
 * an unrouted one; a loopback TCP public listener is read-only.
 */
function checkAccess (request: FastifyRequest, access: AdminAccess): GatewayError | null {
  const read = isRead(request.method)
  if (access === 'health') return read && request.routeOptions.url === HEALTH_URL ? null : new GatewayError('no_route')
  if (access === 'read' && (request.routeOptions.url ?? '').startsWith(ROUTE_FILES_URL)) {
    return new GatewayError('admin_read_only', { message: 'This listener is read-only, and route files may hold credentials: they are read and written only on an --admin-listen or unix listener.' })
  }
  if (read) return null
  if (access === 'read') return new GatewayError('admin_read_only')
  return checkWriteOrigin(request)
}

/**
 * The admin surface as one encapsulated Fastify plugin (issue #12),
 * registered with `{ prefix: ADMIN_PREFIX }` on the public app and on every
 * `--admin-listen` app. Its hooks, error handler and content-type parsers
 * stay inside it: the forwarder never sees them.
 */
export async function adminPlugin (app: FastifyInstance, options: AdminPluginOptions): Promise<void> {
  const { deps, api, access } = options
  let closing = false

  // Bodies are read by the handlers that take one (read-admin-body.ts), on either app, so no parser may consume the
  // stream first: the catch-all leaves it untouched. On the public app every method is bodyless and it never runs.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, _payload, done) => { done(null) })

  app.addHook('onRequest', (request, _reply, done) => {
    const failure = checkAccess(request, access(request)) ??
      (closing && !isRead(request.method) ? new GatewayError('service_unavailable', { message: 'The router is shutting down.' }) : null)
    if (failure === null) done()
    else done(failure)
  })

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    let failure: GatewayError
    if (error instanceof GatewayError) {
      failure = error
    } else if (error.statusCode === 415) {
      failure = new GatewayError('unsupported_media_type')
    } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      failure = new GatewayError('bad_request')
    } else {
      request.log.error({ err: error }, 'unexpected error in the admin API')
      failure = new GatewayError('internal_error')
    }
    // The rest of an oversized body is never read: the connection cannot carry another request.
    if (failure.code === 'payload_too_large' && !isHttp2Request(request.raw)) reply.header('connection', 'close')
    return sendGatewayError(request, reply, failure, deps.store.current, { dashboard: access(request) !== 'health' })
  })

  app.addHook('onClose', async () => { closing = true })

  registerAdminRoutes(app, deps)
  if (api !== null) {
    registerRouteFilesApi(app, api)
    registerReloadApi(app, api)
    registerTunnelsApi(app, api)
  }
}
