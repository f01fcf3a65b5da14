import { mkdirSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { expectedAccept } from '../src/upgrade/check-upgrade-response.js'
import { rawExchange, rawResponses, statusOf } from './helpers/http-client.js'
import { makeStaleSocket } from './helpers/stale-socket.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { DEADLINE_MS } from './helpers/wait-for.js'
import { handshakeHead, startRawBackend, startWsBackend, withTimeout } from './helpers/ws-backend.js'

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
const SMUGGLED = 'GET /internal/admin HTTP/1.1\r\nHost: backend\r\n\r\n'

/**
 * Sends a handshake with a second request pipelined in the same write, and
 * one more as soon as the answer starts, then returns everything the router
 * sent until it closed the connection.
 */
function smuggle (port: number, path: string): Promise<string> {
  return withTimeout(new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let sentLater = false
    socket.on('data', (c: Buffer) => {
      chunks.push(c)
      if (!sentLater) {
        sentLater = true
        socket.write(SMUGGLED)
      }
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
    socket.write(handshakeHead(path, port) + SMUGGLED)
  }), 10_000, 'the router to close the connection')
}

function bodyOf (raw: string): string {
  return raw.slice(raw.indexOf('\r\n\r\n') + 4)
}

function headerOf (raw: string, name: string): string | undefined {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'))
  return new RegExp(`^${name}: *(.*)$`, 'im').exec(head)?.[1]
}

const relayed = [
  {
    name: '404',
    answer: 'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\nno such socket',
    status: 404,
    body: 'no such socket'
  },
  {
    name: '426 with a chunked body',
    answer: 'HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nupgrad\r\n9\r\ne somehow\r\n0\r\n\r\n',
    status: 426,
    body: 'upgrade somehow'
  },
  {
    name: '200 that claims an Upgrade',
    answer: `HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${expectedAccept(KEY)}\r\nContent-Length: 10\r\n\r\nnot really`,
    status: 200,
    body: 'not really'
  }
]

for (const c of relayed) {
  t.test(`a ${c.name} is relayed intact and a pipelined request never reaches the backend`, async (t) => {
    const dir = makeTempDir(t)
    const backend = await startRawBackend(t, join(dir, 'svc', 'ws.sock'), () => c.answer)
    const { port } = await startTestRouter(t, { socketDir: dir })
    const raw = await smuggle(port, '/svc/ws/chat')
    t.equal(statusOf(raw), c.status)
    t.equal(bodyOf(raw), c.body)
    t.equal(headerOf(raw, 'Connection'), 'close')
    t.equal(headerOf(raw, 'Upgrade'), undefined, 'no upgrade is claimed to the client')
    t.equal(backend.connections.length, 1)
    const received = backend.connections[0]?.received ?? ''
    t.match(received, /^GET \/chat HTTP\/1\.1\r\n/)
    t.equal(received.indexOf('\r\n\r\n'), received.length - 4, 'the backend got the handshake head and not one byte more')
    t.notMatch(received, /internal\/admin/)
  })
}

t.test('a 101 with a wrong Sec-WebSocket-Accept is a 502 and opens nothing', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startRawBackend(t, join(dir, 'svc', 'ws.sock'), () =>
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBvbmU=\r\n\r\n')
  const { port, router } = await startTestRouter(t, { socketDir: dir })
  const raw = await smuggle(port, '/svc/ws/')
  t.equal(statusOf(raw), 502)
  t.match(JSON.parse(bodyOf(raw)), { error: 'bad_gateway', service: 'svc' })
  t.notMatch(raw, /Switching Protocols/, 'the bad 101 is not passed on')
  const received = backend.connections[0]?.received ?? ''
  t.notMatch(received, /internal\/admin/)
  t.equal(router.tunnels.stats.opened, 0)
})

t.test('a 101 without Upgrade: websocket is a 502', async (t) => {
  const dir = makeTempDir(t)
  await startRawBackend(t, join(dir, 'svc', 'ws.sock'), () =>
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${expectedAccept(KEY)}\r\n\r\n`)
  const { port } = await startTestRouter(t, { socketDir: dir })
  t.equal(statusOf(await smuggle(port, '/svc/ws/')), 502)
})

t.test('a malformed response head is a 502', async (t) => {
  const dir = makeTempDir(t)
  await startRawBackend(t, join(dir, 'svc', 'ws.sock'), () => 'HTTP/1.1 404 Not Found\nContent-Length: 0\n\n\r\n\r\n')
  const { port } = await startTestRouter(t, { socketDir: dir })
  const raw = await smuggle(port, '/svc/ws/')
  t.equal(statusOf(raw), 502)
  t.equal(JSON.parse(bodyOf(raw)).message, 'The service sent a malformed response.')
})

t.test('client bytes sent with the handshake reach the backend only after its valid 101', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startRawBackend(t, join(dir, 'svc', 'ws.sock'), (head) => {
    const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? ''
    return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${expectedAccept(key)}\r\n\r\nfrom-backend`
  })
  const { port } = await startTestRouter(t, { socketDir: dir })
  const socket = connect(port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  let got = ''
  const sawBackendBytes = new Promise<void>((resolve) => socket.on('data', (c: Buffer) => { got += c.toString('latin1'); if (got.includes('from-backend')) resolve() }))
  socket.write(handshakeHead('/svc/ws/', port) + 'early-frame-bytes')
  await withTimeout(sawBackendBytes, 5000, 'bytes after the 101')
  t.match(got, /^HTTP\/1\.1 101 Switching Protocols\r\n/)
  t.match(got, /Sec-WebSocket-Accept: /i)
  const conn = backend.connections[0]
  await withTimeout(new Promise<void>((resolve) => {
    const check = (): void => { if (conn?.received.endsWith('early-frame-bytes') === true) resolve(); else conn?.socket.once('data', check) }
    check()
  }), 5000, 'the early bytes at the backend')
  t.ok(conn?.received.endsWith('\r\n\r\nearly-frame-bytes'), 'held back, then forwarded right after the head')
})

for (const c of [
  { name: 'a POST upgrade', payload: (port: number) => handshakeHead('/svc/ws/', port).replace(/^GET/, 'POST') },
  { name: 'a handshake with a body', payload: (port: number) => handshakeHead('/svc/ws/', port, { 'Content-Length': '5' }) + 'hello' },
  { name: 'a chunked handshake', payload: (port: number) => handshakeHead('/svc/ws/', port, { 'Transfer-Encoding': 'chunked' }) + '0\r\n\r\n' },
  { name: 'a handshake without Sec-WebSocket-Key', payload: (port: number) => handshakeHead('/svc/ws/', port).replace(/Sec-WebSocket-Key: .*\r\n/, '') },
  { name: 'an HTTP/1.0 handshake', payload: (port: number) => handshakeHead('/svc/ws/', port).replace(/HTTP\/1\.1\r\n/, 'HTTP/1.0\r\n') },
  { name: 'a dot-segment path', payload: (port: number) => handshakeHead('/svc/ws/../other/', port) },
  { name: 'an encoded slash in a name segment', payload: (port: number) => handshakeHead('/svc%2Fws/', port) }
]) {
  t.test(`${c.name} is refused with 400 and never reaches the backend`, async (t) => {
    const dir = makeTempDir(t)
    const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
    const { port } = await startTestRouter(t, { socketDir: dir })
    const raw = await rawExchange(port, c.payload(port))
    t.equal(statusOf(raw), 400)
    t.equal(headerOf(raw, 'Connection'), 'close')
    t.equal(JSON.parse(bodyOf(raw)).error, 'bad_request')
    t.equal(backend.seen.length, 0)
  })
}

t.test('an unknown route gets a raw 404 with Content-Length and Connection: close', async (t) => {
  const dir = makeTempDir(t)
  const { port } = await startTestRouter(t, { socketDir: dir })
  const raw = await rawExchange(port, handshakeHead('/nope/ws/', port))
  t.match(raw, /^HTTP\/1\.1 404 Not Found\r\n/)
  t.equal(Number(headerOf(raw, 'Content-Length')), Buffer.byteLength(bodyOf(raw)))
  t.equal(headerOf(raw, 'Connection'), 'close')
  t.equal(JSON.parse(bodyOf(raw)).error, 'no_route')
})

t.test('a stale socket gives 502, not a hang, with no socket path in the answer', async (t) => {
  const dir = makeTempDir(t)
  mkdirSync(join(dir, 'dead'))
  await makeStaleSocket(join(dir, 'dead', 'ws.sock'))
  // Timeouts far beyond the deadline: only the refused connect itself can produce the answer in time.
  const { port } = await startTestRouter(t, { socketDir: dir, connectTimeoutMs: 10 * DEADLINE_MS, handshakeTimeoutMs: 10 * DEADLINE_MS })
  const raw = await rawResponses(port, handshakeHead('/dead/ws/', port))
  t.equal(statusOf(raw), 502)
  t.notMatch(raw, /ECONN|\.sock|\/tmp/)
})

t.test('a backend that never answers gives 504 after the handshake timeout', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startRawBackend(t, join(dir, 'svc', 'ws.sock'), () => null)
  const { port } = await startTestRouter(t, { socketDir: dir, handshakeTimeoutMs: 300 })
  const raw = await rawResponses(port, handshakeHead('/svc/ws/', port))
  t.equal(statusOf(raw), 504)
  t.equal(JSON.parse(bodyOf(raw)).error, 'gateway_timeout')
  t.equal(backend.connections.length, 1, 'the handshake reached the backend, which never answered')
  await withTimeout(new Promise<void>((resolve) => {
    const sock = backend.connections[0]?.socket
    if (sock === undefined || sock.destroyed) resolve()
    else sock.once('close', () => resolve())
  }), DEADLINE_MS, 'the backend connection to close')
})

t.test('a backend that closes without answering gives 502', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startRawBackend(t, join(dir, 'svc', 'ws.sock'), () => null)
  backend.server.on('connection', (s) => s.once('data', () => s.end()))
  const { port } = await startTestRouter(t, { socketDir: dir })
  t.equal(statusOf(await rawExchange(port, handshakeHead('/svc/ws/', port))), 502)
})
