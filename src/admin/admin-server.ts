import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { GatewayError } from '../forward/gateway-errors.js'
import { sendGatewayError } from '../forward/error-response.js'
import { applyRequestTimeouts, type RequestTimeouts } from '../listen/request-timers.js'
import { registerAccessLog } from '../logging/access-log.js'
import { createChildLoggerFactory } from '../logging/child-logger-factory.js'
import { checkRequestHost } from '../routing/request-host.js'
import type { AdminApiDeps } from './admin-api-deps.js'
import { adminPlugin } from './admin-plugin.js'
import { ADMIN_PREFIX, type AdminDeps } from './admin-routes.js'

export interface AdminServerDeps {
  readonly admin: AdminDeps
  readonly api: AdminApiDeps
  readonly logger: Logger
  /** The public listeners' Host guard: a loopback admin port is as reachable by DNS rebinding as a public one. */
  readonly checkHost: (req: IncomingMessage) => GatewayError | null
  readonly timeouts: RequestTimeouts
}

export interface BuiltAdminServer {
  readonly app: FastifyInstance
  /** A further listener with the same handler, for each extra `--admin-listen`. */
  createListenerServer (): Server
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void

function configure (server: Server, timeouts: RequestTimeouts): Server {
  applyRequestTimeouts(server, timeouts)
  // The live feed (issue #12) holds its response open; the body timeout only ever watches request bodies.
  server.requestTimeout = 0
  server.keepAliveTimeout = 72_000
  return server
}

/**
 * The app behind `--admin-listen` (issue #12): the admin plugin and nothing
 * else, no forwarder and no upgrades, with full access (writes included).
 * Its connections do not count towards the public listeners' connection
 * cap, so a flood of public clients cannot lock the operator out (HAProxy's
 * stats socket has its own maxconn for the same reason); the request
 * timeouts still apply.
 */
export async function buildAdminServer (deps: AdminServerDeps): Promise<BuiltAdminServer> {
  let handler: RequestHandler | null = null
  const app = Fastify({
    loggerInstance: deps.logger.child({ listener: 'admin' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: createChildLoggerFactory(),
    serverFactory: (httpHandler) => {
      handler = httpHandler
      return configure(createServer(httpHandler), deps.timeouts)
    },
    frameworkErrors: (error, request, reply) => {
      deps.logger.debug({ err: { code: error.code } }, 'framework error')
      void sendGatewayError(request, reply, new GatewayError('bad_request'), deps.admin.store.current)
    }
  })
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const failure = error instanceof GatewayError
      ? error
      : new GatewayError(typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? 'bad_request' : 'internal_error')
    return sendGatewayError(request, reply, failure, deps.admin.store.current)
  })
  app.setNotFoundHandler((request, reply) => sendGatewayError(request, reply, new GatewayError('no_route'), deps.admin.store.current))
  registerAccessLog(app)
  app.addHook('onRequest', (request, _reply, done) => {
    const failure = checkRequestHost(request.raw) ?? deps.checkHost(request.raw)
    if (failure === null) done()
    else done(failure)
  })
  await app.register(adminPlugin, { prefix: ADMIN_PREFIX, deps: deps.admin, api: deps.api, access: () => 'full' })
  await app.ready()
  return {
    app,
    createListenerServer: () => configure(createServer(handler as RequestHandler), deps.timeouts)
  }
}
