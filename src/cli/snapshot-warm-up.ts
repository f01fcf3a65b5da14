import { EventEmitter } from 'node:events'
import { METHODS } from 'node:http'
import fastify, { type FastifyPluginCallback } from 'fastify'
import pino from 'pino'

/** Plugin metadata the way fastify-plugin sets it, so fastify runs its semver check of `fastify: '5.x'` as it does for @fastify/reply-from. */
function asFastifyPlugin<T extends FastifyPluginCallback<never>> (plugin: T, name: string): T {
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('plugin-meta')]: { fastify: '5.x', name }, [Symbol.for('fastify.display-name')]: name })
}

/**
 * Run once while the binary's start-up snapshot is built (issue #14,
 * start-up; src/cli/snapshot-entry.ts), never at run time. V8 compiles a
 * function on its first call, and a snapshot keeps the bytecode of what
 * ran before it was taken: building a throw-away Fastify app the way
 * buildServer does (a prefixed plugin with its own hooks, parsers and
 * handlers, an all-methods wildcard route, decorators, ready()) moves the
 * compiling of fastify, avvio, find-my-way, semver (fastify's plugin
 * version check) and pino's logger set-up from every start to the build.
 * Nothing it makes is kept: the app has no server (node:http cannot be in a
 * snapshot, so a bare EventEmitter stands in for it, never listened on), its
 * logger writes nowhere, and it is closed before the snapshot is taken.
 * Only semver's cache of parsed ranges keeps what it parsed, the same
 * ranges a start would parse.
 */
export async function warmUpForSnapshot (): Promise<void> {
  const sink = { write: () => {} }
  const logger = pino({ level: 'info', base: { name: 'sockrouter' } }, sink)
  logger.child({ reqId: 'warm' }).debug('warm')
  const app = fastify({
    loggerInstance: logger,
    serverFactory: () => Object.assign(new EventEmitter(), { listening: false, setTimeout () {}, close (cb?: () => void) { cb?.() } }) as never,
    childLoggerFactory: (parent, bindings, options) => parent.child(bindings, options)
  })
  app.decorateRequest('warmMatch', null)
  app.setErrorHandler((_error, _request, reply) => reply.code(500).send())
  app.setNotFoundHandler((_request, reply) => reply.code(404).send())
  app.addHook('onRequest', (_request, _reply, done) => { done() })
  app.addHook('onResponse', (_request, _reply, done) => { done() })
  app.addHook('onError', (_request, _reply, _error, done) => { done() })
  await app.register(asFastifyPlugin((instance, _options, done) => {
    instance.decorateReply('warmFrom', null)
    done()
  }, 'sockrouter-warm-up'))
  await app.register(async (admin) => {
    admin.removeAllContentTypeParsers()
    admin.addContentTypeParser('*', (_request, payload, done) => { done(null, payload) })
    admin.setErrorHandler((_error, _request, reply) => reply.code(500).send())
    admin.addHook('onRequest', (_request, _reply, done) => { done() })
    admin.addHook('onClose', async () => {})
    admin.get('/', async () => 'page')
    admin.get('/api/routes', async () => ({ routes: [] }))
    admin.get('/api/routes/:prefix', async () => ({}))
    admin.get('/files/*', async () => ({}))
    admin.post('/api/rescan', async () => ({}))
    admin.put('/api/files/:name', async () => ({}))
    admin.delete('/api/files/:name', async () => ({}))
  }, { prefix: '/_warm' })
  for (const method of METHODS) if (method !== 'CONNECT') app.addHttpMethod(method, { hasBody: false, overrideExisting: true })
  app.route({ method: app.supportedMethods.filter((m) => m !== 'CONNECT'), url: '/*', exposeHeadRoute: false, logLevel: 'error', handler: async () => 'forwarded' })
  await app.ready()
  await app.close()
}
