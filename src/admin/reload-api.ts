import type { FastifyInstance } from 'fastify'
import { changesAfter, rescanErrorView, type AdminApiDeps } from './admin-api-deps.js'

/** POST /_sockrouter/api/reload: what SIGHUP does, answered once it is done, with what it changed (issue #12). */
export function registerReloadApi (app: FastifyInstance, deps: AdminApiDeps): void {
  app.post('/api/reload', async (request) => {
    request.log.info('admin API: rescanning the socket directory and reloading services.d')
    const changes = await changesAfter(deps, async () => {})
    return { changes, configErrors: deps.configErrors(), rescanError: rescanErrorView(deps) }
  })
}
