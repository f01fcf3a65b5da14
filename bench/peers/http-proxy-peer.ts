/**
 * `http-proxy` (node-http-proxy) as a user would set it up in front of unix
 * sockets: one keep-alive Agent per socket, `xfwd`, WebSocket via `proxy.ws`.
 */
import { createServer, Agent, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import httpProxy from 'http-proxy'
import { exitWithParent, matchPrefix, parsePeerArgv } from './peer-args.js'

const { port, routes } = parsePeerArgv(process.argv.slice(2))
const agents = new Map(routes.map((r) => [r.socketPath, new Agent({ keepAlive: true, maxFreeSockets: 256 })]))
const proxy = httpProxy.createProxyServer({ xfwd: true })

// node-http-proxy crashes the process on an `error` nobody listens to.
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res) {
    const response = res as ServerResponse
    if (!response.headersSent) response.writeHead(502)
    response.end()
  } else {
    (res as Socket).destroy()
  }
})

// http-proxy's types want host and port with a socketPath; its setupOutgoing copies socketPath alone just fine.
type Target = httpProxy.ProxyTarget

const server = createServer((req, res) => {
  const m = matchPrefix(routes, req.url ?? '/')
  if (m === null) { res.writeHead(404); res.end(); return }
  req.url = m.rest
  proxy.web(req, res, { target: { socketPath: m.route.socketPath } as Target, agent: agents.get(m.route.socketPath) })
})
server.keepAliveTimeout = 120_000

server.on('upgrade', (req, socket: Socket, head) => {
  socket.on('error', () => socket.destroy())
  const m = matchPrefix(routes, req.url ?? '/')
  if (m === null || !m.route.ws) { socket.destroy(); return }
  req.url = m.rest
  proxy.ws(req, socket, head, { target: { socketPath: m.route.socketPath } as Target })
})

server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'))
exitWithParent(() => process.exit(0))
