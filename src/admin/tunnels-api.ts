import type { FastifyInstance } from 'fastify'
import { GatewayError } from '../forward/gateway-errors.js'
import type { AdminApiDeps } from './admin-api-deps.js'

interface IdParams { id: string }

/** GET /_sockrouter/api/tunnels and DELETE …/tunnels/:id (issue #12); with `--workers`, over every worker (issue #14). */
export function registerTunnelsApi (app: FastifyInstance, deps: AdminApiDeps): void {
  app.get('/api/tunnels', async () => {
    const open = await deps.tunnels.list()
    const now = Date.now()
    return {
      tunnels: open.map((t) => ({
        id: t.id,
        route: t.route,
        client: t.client,
        startedAt: new Date(t.startedAt).toISOString(),
        ageSeconds: Math.round((now - t.startedAt) / 1000),
        bytesIn: t.bytesIn,
        bytesOut: t.bytesOut
      }))
    }
  })

  // Answered once both sockets are closed: a client that lists again no longer sees it.
  app.delete<{ Params: IdParams }>('/api/tunnels/:id', async (request) => {
    const { id } = request.params
    request.log.info({ tunnel: id }, 'admin API: closing a WebSocket tunnel')
    if (!(await deps.tunnels.close(id))) throw new GatewayError('not_found', { message: 'No open tunnel has that id.' })
    return { id, closed: true }
  })
}
