/**
 * `@fastify/http-proxy` (reply-from + undici underneath, like sockrouter),
 * one registration per prefix: `unix+http://` upstreams, and for the WebSocket
 * backend `websocket: true` with a client that dials the unix socket.
 */
import { connect } from 'node:net'
import Fastify from 'fastify'
import proxy from '@fastify/http-proxy'
import { exitWithParent, parsePeerArgv } from './peer-args.js'

const { port, routes } = parsePeerArgv(process.argv.slice(2))
const app = Fastify({ logger: false })
app.server.keepAliveTimeout = 120_000

for (const route of routes) {
  const upstream = `unix+http://${encodeURIComponent(route.socketPath)}/`
  if (route.ws) {
    await app.register(proxy, {
      prefix: route.prefix,
      upstream,
      websocket: true,
      wsUpstream: 'ws://localhost',
      wsClientOptions: { createConnection: () => connect(route.socketPath) }
    })
  } else {
    await app.register(proxy, { prefix: route.prefix, upstream })
  }
}

await app.listen({ host: '127.0.0.1', port })
process.stdout.write('ready\n')
exitWithParent(() => { void app.close().then(() => process.exit(0)) })
