import { mkdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createNetServer, type Server as NetServer } from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { waitForHealth } from './helpers/health.js'
import { httpGet, rawExchange, statusOf } from './helpers/http-client.js'
import { hasRoute, startTestRouter, waitForTable } from './helpers/router.js'
import { writeRouteFile } from './helpers/services-dir.js'
import { makeStaleSocket } from './helpers/stale-socket.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { DEADLINE_MS } from './helpers/wait-for.js'

/**
 * Issue #12, passive health: a refused or missing socket met by a real
 * request or handshake marks its route `unreachable` at once, and the next
 * answered one clears it. Probing is off in every test here (the default of
 * startTestRouter), so only real traffic can change a route's health.
 */

function handshake (port: number, path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
}

async function listen (server: Server | NetServer, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  return (server.address() as { port: number }).port
}

async function stop (server: Server | NetServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

/** A free port: listened on, then closed, so a connect there is refused until something listens again. */
async function freePort (t: Test): Promise<number> {
  const probe = createNetServer()
  const port = await listen(probe)
  await stop(probe)
  t.ok(port > 0)
  return port
}

t.test('a stale socket becomes unreachable on the first request, with no probe at all', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  mkdirSync(join(socketDir, 'dead'), { recursive: true })
  await makeStaleSocket(join(socketDir, 'dead', 'ui.sock'))
  const { router, url } = await startTestRouter(t, { socketDir })
  await waitForTable(router, hasRoute('/dead/ui/'), DEADLINE_MS, '/dead/ui/')
  t.equal(router.health.get('/dead/ui/').state, 'unknown', 'not probed, not used yet: unknown')

  t.equal((await httpGet(`${url}/dead/ui/`)).status, 502)
  t.match(router.health.get('/dead/ui/'), { state: 'unreachable', cause: 'connect ECONNREFUSED' }, 'marked by the request itself, before its 502 went out')
  const routes = JSON.parse((await httpGet(`${url}/_sockrouter/routes`)).text) as { routes: Array<{ prefix: string, health: string, healthCause: string }> }
  t.match(routes.routes.find((r) => r.prefix === '/dead/ui/'), { health: 'unreachable', healthCause: 'connect ECONNREFUSED' })
  const health = JSON.parse((await httpGet(`${url}/_sockrouter/health`)).text) as { health: Record<string, number> }
  t.same(health.health, { healthy: 0, unhealthy: 0, unreachable: 1, unknown: 0 })
})

t.test('an HTTP route refused is unreachable at once, and the next answered request clears it to healthy', async (t) => {
  const root = makeTempDir(t)
  const servicesDir = join(root, 'services.d')
  const port = await freePort(t)
  writeRouteFile(servicesDir, 'tcp.yaml', `routes:\n  - prefix: /tcp\n    url: http://127.0.0.1:${port}\n`)
  const { router, url } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })
  await waitForTable(router, hasRoute('/tcp/'), DEADLINE_MS, '/tcp/')

  t.equal((await httpGet(`${url}/tcp/`)).status, 502, 'nothing listens yet')
  const down = router.health.get('/tcp/')
  t.match(down, { state: 'unreachable', cause: 'connect ECONNREFUSED' })

  const backend = createServer((req, res) => { req.resume(); res.writeHead(500); res.end() })
  await listen(backend, port)
  t.teardown(() => stop(backend))
  const changed = waitForHealth(router, '/tcp/', 'healthy')
  t.equal((await httpGet(`${url}/tcp/`)).status, 500, 'the backend is back, answering 500')
  const up = await changed
  t.equal(up.cause, 'a request was answered', 'any answer counts: the backend is there')
  t.ok(up.since >= down.since, 'since moves with the change')
})

t.test('a WebSocket handshake refused marks the route unreachable; the next handshake answered clears it', async (t) => {
  const root = makeTempDir(t)
  const servicesDir = join(root, 's.d')
  const port = await freePort(t)
  writeRouteFile(servicesDir, 'ws.yaml', `routes:\n  - prefix: /ws\n    url: http://127.0.0.1:${port}\n`)
  const { router, port: routerPort } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })
  await waitForTable(router, hasRoute('/ws/'), DEADLINE_MS, '/ws/')

  t.equal(statusOf(await rawExchange(routerPort, handshake(routerPort, '/ws/'))), 502)
  t.match(router.health.get('/ws/'), { state: 'unreachable', cause: 'connect ECONNREFUSED' })

  // A backend that refuses the upgrade with a plain 403: still an answer.
  const backend = createNetServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', () => socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'))
  })
  await listen(backend, port)
  t.teardown(() => stop(backend))
  t.equal(statusOf(await rawExchange(routerPort, handshake(routerPort, '/ws/'))), 403)
  t.match(router.health.get('/ws/'), { state: 'healthy', cause: 'a request was answered' })
})

t.test('a route file\'s missing socket is unreachable from the table alone', async (t) => {
  const root = makeTempDir(t)
  const servicesDir = join(root, 'services.d')
  writeRouteFile(servicesDir, 'later.yaml', `routes:\n  - prefix: /later\n    socket: ${join(root, 'nobody', 'here.sock')}\n`)
  const { router, url } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })
  await waitForTable(router, hasRoute('/later/'), DEADLINE_MS, '/later/')
  t.match(router.health.get('/later/'), { state: 'unreachable', cause: 'socket missing' })
  t.equal((await httpGet(`${url}/later/`)).status, 503, 'a down route still answers 503: routing does not change')
})
