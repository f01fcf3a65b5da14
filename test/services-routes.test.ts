import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { WebSocketServer } from 'ws'
import type { RunningRouter } from '../src/start-router.js'
import { startBackend, type Handler } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter, waitForTable } from './helpers/router.js'
import { DEADLINE_MS, onceWithin } from './helpers/wait-for.js'
import { writeRouteFile } from './helpers/services-dir.js'
import { nextMessage, openClient, startWsBackend } from './helpers/ws-backend.js'

interface Echo { url: string, headers: Record<string, string> }

interface Teardown { teardown (fn: () => unknown): void }

async function setup (t: Teardown, yaml: string) {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'd')
  writeRouteFile(servicesDir, 'routes.yaml', yaml.replaceAll('$ROOT', root))
  const router = await startTestRouter(t, { socketDir, servicesDir })
  return { root, socketDir, servicesDir, ...router }
}

async function startTcpBackend (t: Teardown, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number, seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = []
  const server = createServer((req, res) => { seen.push(req); handler(req, res) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { port: (server.address() as { port: number }).port, seen }
}

/** The HTTP status a refused WebSocket handshake got. */
async function refusedStatus (opening: Promise<unknown>): Promise<number | undefined> {
  try {
    await opening
    return 101
  } catch (err) {
    return (err as { status?: number }).status
  }
}

const echo: Handler = (req, res) => {
  req.resume()
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ url: req.url, headers: req.headers }))
}

t.test('socket: a socket outside the socket directory', async (t) => {
  const { root, url, router } = await setup(t, 'routes:\n  - prefix: /legacy\n    socket: $ROOT/elsewhere/app.sock\n')
  const backend = await startBackend(t, join(root, 'elsewhere', 'app.sock'), echo)
  await routeUp(router, 'legacy')
  const res = await httpGet(`${url}/legacy/x?q=1`)
  t.equal(res.status, 200)
  t.equal((JSON.parse(res.text) as Echo).url, '/x?q=1')
  t.ok(backend.seen.length >= 1)
})

/** A file route whose socket starts after the router is down until discovery sees the socket. */
function routeUp (router: RunningRouter, key: string): Promise<unknown> {
  return waitForTable(router, (table) => table.byKey.get(key)?.status === 'up', DEADLINE_MS, `the route ${key} to come up`)
}

t.test('a file route whose socket does not exist yet is 503 until it appears', async (t) => {
  const { socketDir, url, router } = await setup(t, 'routes:\n  - prefix: /later\n    socket: later/api.sock\n')
  const down = await httpGet(`${url}/later/`)
  t.equal(down.status, 503)
  t.equal(down.headers['retry-after'], '1')
  t.same(JSON.parse(down.text), { error: 'service_unavailable', message: 'The service is known but not running.', service: 'later' })
  const up = waitForTable(router, (table) => table.byKey.get('later')?.status === 'up', DEADLINE_MS, 'the route to come up')
  await startBackend(t, join(socketDir, 'later', 'api.sock'), echo)
  await up
  t.equal((await httpGet(`${url}/later/x`)).status, 200)
})

t.test('url: a TCP backend, with a base path, refused means 502', async (t) => {
  const tcp = await startTcpBackend(t, echo)
  const { url } = await setup(t, `routes:\n  - prefix: /tcp\n    url: http://127.0.0.1:${tcp.port}/base/\n  - prefix: /refused\n    url: http://127.0.0.1:1\n`)
  const res = await httpGet(`${url}/tcp/a%2Fb?x=1`)
  t.equal(res.status, 200)
  const seen = JSON.parse(res.text) as Echo
  t.equal(seen.url, '/base/a%2Fb?x=1')
  t.equal(seen.headers.host, new URL(url).host, 'Host is the client\'s without changeOrigin')
  const refused = await httpGet(`${url}/refused/`)
  t.equal(refused.status, 502)
  t.equal((JSON.parse(refused.text) as { service: string }).service, 'refused')
})

t.test('rewrite and stripPrefix', async (t) => {
  const { socketDir, url, router } = await setup(t, [
    'routes:',
    '  - prefix: /api',
    '    socket: svc/api.sock',
    '    rewrite: /v2/',
    '  - prefix: /full/path',
    '    socket: svc/api.sock',
    '    stripPrefix: false'
  ].join('\n'))
  await startBackend(t, join(socketDir, 'svc', 'api.sock'), echo)
  await routeUp(router, 'api')
  const rewritten = JSON.parse((await httpGet(`${url}/api/users?id=7`)).text) as Echo
  t.equal(rewritten.url, '/v2/users?id=7')
  t.equal(rewritten.headers['x-forwarded-prefix'], '/api')
  t.equal((JSON.parse((await httpGet(`${url}/api`, { method: 'POST' })).text) as Echo).url, '/v2/')
  t.equal((await httpGet(`${url}/api`)).headers.location, '/api/', 'a GET of the bare prefix is redirected (issue #10)')
  const full = JSON.parse((await httpGet(`${url}/full/path/x`)).text) as Echo
  t.equal(full.url, '/full/path/x')
  t.equal(full.headers['x-forwarded-prefix'], undefined, 'nothing stripped, no prefix announced')
})

t.test('requestHeaders and responseHeaders: set and remove both ways', async (t) => {
  const { socketDir, url, router } = await setup(t, [
    'routes:',
    '  - prefix: /h',
    '    socket: svc/h.sock',
    '    requestHeaders:',
    '      set: { X-Added: yes, X-Forwarded-Proto: https }',
    '      remove: [Cookie, X-Drop]',
    '    responseHeaders:',
    '      set: { X-Frame-Options: SAMEORIGIN }',
    '      remove: [Server]'
  ].join('\n'))
  await startBackend(t, join(socketDir, 'svc', 'h.sock'), (req, res) => {
    res.setHeader('server', 'backend/1.0')
    res.setHeader('x-frame-options', 'DENY')
    echo(req, res)
  })
  await routeUp(router, 'h')
  const res = await httpGet(`${url}/h/`)
  const seen = JSON.parse((await httpGet(`${url}/h/`, { headers: { cookie: 'a=1', 'x-drop': '1', 'x-keep': '1' } })).text) as Echo
  t.equal(seen.headers['x-added'], 'yes')
  t.equal(seen.headers['x-forwarded-proto'], 'https', 'rules run after X-Forwarded-*')
  t.equal(seen.headers.cookie, undefined)
  t.equal(seen.headers['x-drop'], undefined)
  t.equal(seen.headers['x-keep'], '1')
  t.equal(res.headers.server, undefined)
  t.equal(res.headers['x-frame-options'], 'SAMEORIGIN')
})

t.test('changeOrigin rewrites Host for HTTP and Host and Origin for WebSocket', async (t) => {
  const tcp = await startTcpBackend(t, echo)
  const root = makeTempDir(t)
  const wsBackend = await startWsBackend(t, join(root, 's', 'live', 'ws.sock'))
  const servicesDir = join(root, 'd')
  writeRouteFile(servicesDir, 'r.yaml', `routes:\n  - prefix: /co\n    url: http://127.0.0.1:${tcp.port}\n    changeOrigin: true\n  - prefix: /ws\n    socket: live/ws.sock\n    changeOrigin: true\n    allowedOrigins: ['http://app.localhost']\n`)
  const { url, port } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })
  const seen = JSON.parse((await httpGet(`${url}/co/`)).text) as Echo
  t.equal(seen.headers.host, `127.0.0.1:${tcp.port}`)
  t.equal(seen.headers['x-forwarded-host'], `127.0.0.1:${port}`, 'the client\'s host is still announced')
  const ws = await openClient(`ws://127.0.0.1:${port}/ws/`, undefined, { origin: 'http://app.localhost' })
  ws.send('hi')
  t.equal((await nextMessage(ws)).data.toString(), 'hi')
  ws.close()
  t.equal(wsBackend.seen[0]?.headers.host, 'localhost')
  t.equal(wsBackend.seen[0]?.headers.origin, 'http://localhost')
})

t.test('url: a WebSocket reaches a TCP backend through the tunnel', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  wss.on('connection', (socket) => socket.on('message', (data, binary) => socket.send(data, { binary })))
  t.teardown(() => { for (const c of wss.clients) c.terminate(); wss.close() })
  const { port } = await setup(t, `routes:\n  - prefix: /tcpws\n    url: http://127.0.0.1:${(wss.address() as AddressInfo).port}\n`)
  const ws = await openClient(`ws://127.0.0.1:${port}/tcpws/`)
  for (const text of ['a', 'bb', 'ccc']) {
    ws.send(text)
    t.equal((await nextMessage(ws)).data.toString(), text)
  }
  ws.close()
})

t.test('websocket: false refuses the upgrade; allowedOrigins is per route', async (t) => {
  const root = makeTempDir(t)
  const backend = await startWsBackend(t, join(root, 's', 'svc', 'ws.sock'))
  const servicesDir = join(root, 'd')
  writeRouteFile(servicesDir, 'r.yaml', 'routes:\n  - prefix: /nows\n    socket: svc/ws.sock\n    websocket: false\n  - prefix: /open\n    socket: svc/ws.sock\n    allowedOrigins: [https://partner.example]\n')
  const { port, url } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })
  t.equal(await refusedStatus(openClient(`ws://127.0.0.1:${port}/nows/`)), 403)
  t.equal((await httpGet(`${url}/nows/`)).status, 200, 'plain HTTP still works')
  const ws = await openClient(`ws://127.0.0.1:${port}/open/`, undefined, { origin: 'https://partner.example' })
  ws.close()
  t.equal(await refusedStatus(openClient(`ws://127.0.0.1:${port}/svc/ws/`, undefined, { origin: 'https://partner.example' })), 403, 'the discovered route does not share the list')
  t.equal(await refusedStatus(openClient(`ws://127.0.0.1:${port}/open/`, undefined, { origin: 'https://other.example' })), 403)
  t.equal(backend.seen.length, 1)
})

t.test('maxTunnels limits one route; tunnelIdle closes quiet tunnels', async (t) => {
  const root = makeTempDir(t)
  await startWsBackend(t, join(root, 's', 'svc', 'ws.sock'))
  const servicesDir = join(root, 'd')
  writeRouteFile(servicesDir, 'r.yaml', 'routes:\n  - prefix: /one\n    socket: svc/ws.sock\n    maxTunnels: 1\n  - prefix: /idle\n    socket: svc/ws.sock\n    timeouts:\n      tunnelIdle: 200ms\n')
  const { port, waitForLog } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })
  const first = await openClient(`ws://127.0.0.1:${port}/one/`)
  t.equal(await refusedStatus(openClient(`ws://127.0.0.1:${port}/one/`)), 503)
  const other = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  other.close()
  first.close()
  const idle = await openClient(`ws://127.0.0.1:${port}/idle/`)
  await onceWithin(idle, 'close', 'the quiet tunnel to close')
  const line = await waitForLog((l) => l.msg === 'websocket tunnel closed' && l.url === '/idle/')
  t.equal(line.reason, 'idle', 'closed by the route\'s idle timeout')
})

t.test('timeouts.upstream gives 504 on this route only', async (t) => {
  const { socketDir, url, router } = await setup(t, 'routes:\n  - prefix: /slow\n    socket: svc/slow.sock\n    timeouts:\n      upstream: 200ms\n')
  await startBackend(t, join(socketDir, 'svc', 'slow.sock'), () => {})
  await routeUp(router, 'slow')
  const res = await httpGet(`${url}/slow/`)
  t.equal(res.status, 504)
})

t.test('rewriteLocation moves absolute-path redirects under the prefix', async (t) => {
  const tcp = await startTcpBackend(t, (req, res) => {
    const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to') ?? '/'
    res.writeHead(302, { location: to.replace('$SELF', `http://127.0.0.1:${(req.socket.localPort ?? 0)}`) })
    res.end()
  })
  const { socketDir, url, router } = await setup(t, `routes:\n  - prefix: /app\n    socket: svc/app.sock\n  - prefix: /raw\n    socket: svc/app.sock\n    rewriteLocation: false\n  - prefix: /remote\n    url: http://127.0.0.1:${tcp.port}/base\n`)
  await startBackend(t, join(socketDir, 'svc', 'app.sock'), (req, res) => {
    const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to') ?? '/'
    res.writeHead(302, { location: to })
    res.end()
  })
  const location = async (path: string, to: string): Promise<string | undefined> => (await httpGet(`${url}${path}?to=${encodeURIComponent(to)}`)).headers.location
  await routeUp(router, 'app')
  t.equal(await location('/app/', '/login'), '/app/login')
  t.equal(await location('/app/', '/app/already'), '/app/already')
  t.equal(await location('/app/', 'relative'), 'relative')
  t.equal(await location('/app/', 'https://elsewhere.example/x'), 'https://elsewhere.example/x')
  t.equal(await location('/raw/', '/login'), '/login', 'rewriteLocation: false')
  t.equal(await location('/remote/', '$SELF/base/login'), '/remote/login', 'a redirect to the URL target itself')
  t.equal(await location('/remote/', '/base/x'), '/remote/x')
})

t.test('precedence: a file beats discovery, the longest prefix wins', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const discovered = await startBackend(t, join(socketDir, 'chat', 'ui.sock'), echo)
  const fileTarget = await startBackend(t, join(root, 'other.sock'), echo)
  const servicesDir = join(root, 'd')
  writeRouteFile(servicesDir, 'r.yaml', `routes:\n  - prefix: /chat/ui\n    socket: ${join(root, 'other.sock')}\n  - prefix: /chat\n    socket: ${join(root, 'other.sock')}\n    rewrite: /root/\n`)
  const { url, router, logs } = await startTestRouter(t, { socketDir, servicesDir })
  await httpGet(`${url}/chat/ui/x`)
  const rootRes = JSON.parse((await httpGet(`${url}/chat/other`)).text) as Echo
  t.equal(rootRes.url, '/root/other', '/chat/other falls to the shorter /chat prefix')
  t.equal(discovered.seen.length, 0, 'the discovered socket is overridden')
  t.equal(fileTarget.seen[0]?.url, '/x')
  t.equal(router.store.current.byKey.get('chat/ui')?.source, 'file')
  t.equal(logs.filter((l) => String(l.msg).startsWith('a route file overrides the discovered route /chat/ui/')).length, 1, 'the override is logged once')
  await router.rescan()
  t.equal(logs.filter((l) => String(l.msg).startsWith('a route file overrides')).length, 1, 'and not again on a rescan')
})
