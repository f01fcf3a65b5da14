import { join } from 'node:path'
import t from 'tap'
import type { WebSocket } from 'ws'
import { httpGet, rawExchange, statusOf } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { handshakeHead, openClient, startWsBackend } from './helpers/ws-backend.js'

function bodyOf (raw: string): { error: string, message: string } {
  return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { error: string, message: string }
}

t.test('a cross-origin handshake gets 403 and never reaches the backend', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const raw = await rawExchange(port, handshakeHead('/svc/ws/', port, { Origin: 'https://evil.example' }))
  t.equal(statusOf(raw), 403)
  t.equal(bodyOf(raw).error, 'forbidden')
  t.match(bodyOf(raw).message, /--allowed-origin/, 'the message says how to allow it')
  const nullOrigin = await rawExchange(port, handshakeHead('/svc/ws/', port, { Origin: 'null' }))
  t.equal(statusOf(nullOrigin), 403, 'a sandboxed page (Origin: null) is foreign too')
  const otherPort = await rawExchange(port, handshakeHead('/svc/ws/', port, { Origin: `http://127.0.0.1:${port + 1}` }))
  t.equal(statusOf(otherPort), 403, 'same host, other port is another origin')
  t.equal(backend.seen.length, 0)
})

t.test('the router\'s own origin, and no Origin at all, are allowed', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const own = await openClient(`ws://127.0.0.1:${port}/svc/ws/`, undefined, { origin: `http://127.0.0.1:${port}` })
  own.terminate()
  const none = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  none.terminate()
  const viaLocalhost = await openClient(`ws://localhost:${port}/svc/ws/`, undefined, { origin: `http://localhost:${port}`, family: 4 })
  viaLocalhost.terminate()
  t.pass('all three opened')
})

t.test('--allowed-origin lets a listed origin in, and * lets any in', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const listed = await startTestRouter(t, { socketDir: dir, allowedOrigins: ['https://app.example'] })
  const ok = await openClient(`ws://127.0.0.1:${listed.port}/svc/ws/`, undefined, { origin: 'https://APP.example:443' })
  ok.terminate()
  t.equal(statusOf(await rawExchange(listed.port, handshakeHead('/svc/ws/', listed.port, { Origin: 'https://other.example' }))), 403)
  const any = await startTestRouter(t, { socketDir: dir, allowedOrigins: ['*'] })
  const anyOk = await openClient(`ws://127.0.0.1:${any.port}/svc/ws/`, undefined, { origin: 'https://other.example' })
  anyOk.terminate()
  t.pass('listed and wildcard origins opened')
})

t.test('a foreign Host gets 403, for WebSockets and plain HTTP alike (DNS rebinding)', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, url } = await startTestRouter(t, { socketDir: dir })
  const ws = await rawExchange(port, handshakeHead('/svc/ws/', port, { Host: `rebind.example:${port}` }))
  t.equal(statusOf(ws), 403)
  t.match(bodyOf(ws).message, /--allowed-host/)
  const http = await httpGet(`${url}/svc/ws/`, { headers: { host: `rebind.example:${port}` } })
  t.equal(http.status, 403)
  t.equal((JSON.parse(http.text) as { error: string }).error, 'forbidden')
  const admin = await httpGet(`${url}/_sockrouter/health`, { headers: { host: 'rebind.example' } })
  t.equal(admin.status, 403, 'the router\'s own endpoints are guarded too')
  t.equal(backend.seen.length, 0)
  for (const host of [`localhost:${port}`, 'app.localhost', `[::1]:${port}`, '127.0.0.2']) {
    t.equal((await httpGet(`${url}/_sockrouter/health`, { headers: { host } })).status, 200, `${host} is loopback`)
  }
})

t.test('--allowed-host lets a listed name in, and * lets any in', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const listed = await startTestRouter(t, { socketDir: dir, allowedHosts: ['router.lan'] })
  t.equal((await httpGet(`${listed.url}/svc/ws/`, { headers: { host: 'Router.LAN:8080' } })).status, 200)
  t.equal((await httpGet(`${listed.url}/svc/ws/`, { headers: { host: 'other.lan' } })).status, 403)
  const ws = await openClient(`ws://127.0.0.1:${listed.port}/svc/ws/`, undefined, { headers: { host: 'router.lan' }, origin: 'http://router.lan' })
  ws.terminate()
  const any = await startTestRouter(t, { socketDir: dir, allowedHosts: ['*'] })
  t.equal((await httpGet(`${any.url}/svc/ws/`, { headers: { host: 'whatever.example' } })).status, 200)
})

t.test('over the per-IP limit a handshake gets 503 with Retry-After; a freed slot is reusable', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, router, waitForLog } = await startTestRouter(t, { socketDir: dir, maxTunnelsPerIp: 3 })
  const open: WebSocket[] = []
  for (let i = 0; i < 3; i++) open.push(await openClient(`ws://127.0.0.1:${port}/svc/ws/`))
  t.teardown(() => open.forEach((ws) => ws.terminate()))
  const raw = await rawExchange(port, handshakeHead('/svc/ws/', port))
  t.equal(statusOf(raw), 503)
  t.match(raw, /\r\nRetry-After: \d+\r\n/)
  t.equal(bodyOf(raw).error, 'service_unavailable')
  t.equal(backend.seen.length, 3, 'the refused handshake never reached the backend')
  open[0]?.close()
  // Logged once both of the tunnel's sockets have closed, which is when its slot is released.
  await waitForLog((l) => l.msg === 'websocket tunnel closed')
  t.equal(router.tunnels.registry.size, 2)
  open.push(await openClient(`ws://127.0.0.1:${port}/svc/ws/`))
  t.pass('a slot freed by a closed tunnel is used again')
})

t.test('over the total limit a handshake gets 503', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir, maxTunnels: 2 })
  const a = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  const b = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  t.teardown(() => { a.terminate(); b.terminate() })
  t.equal(statusOf(await rawExchange(port, handshakeHead('/svc/ws/', port))), 503)
})
