import { connect } from 'node:net'
import type { IncomingMessage } from 'node:http'
import { join } from 'node:path'
import t from 'tap'
import { buildRouteTable, socketsOnly } from '../src/routing/build-route-table.js'
import { matchRoute, type RouteMatch } from '../src/routing/match-route.js'
import { parseRequestTarget } from '../src/routing/parse-request-target.js'
import { buildUpstreamHead } from '../src/upgrade/build-upstream-head.js'
import { expectedAccept } from '../src/upgrade/check-upgrade-response.js'
import { startBackend } from './helpers/backend.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { handshakeHead, startRawBackend, withTimeout } from './helpers/ws-backend.js'

// Issue #10: a cookie with bytes that are not UTF-8, as browsers and old servers send.
const COOKIE = 'sid=\xff\xe9; name=caf\xe9'

/** Sends latin1 bytes and collects the answer until the router closes or `done` says so. */
function exchange (port: number, payload: string, done: (got: string) => boolean): Promise<string> {
  return withTimeout(new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let got = ''
    const finish = (): void => { socket.destroy(); resolve(got) }
    socket.on('data', (c: Buffer) => { got += c.toString('latin1'); if (done(got)) finish() })
    socket.on('close', finish)
    socket.on('error', reject)
    socket.write(Buffer.from(payload, 'latin1'))
  }), 5000, 'the answer')
}

t.test('a WebSocket handshake reaches the backend with its header bytes unchanged, as HTTP does', async (t) => {
  const dir = makeTempDir(t)
  const http = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const ws = await startRawBackend(t, join(dir, 'svc', 'ws.sock'), (head) => {
    const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? ''
    return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${expectedAccept(key)}\r\n\r\n`
  })
  const { port } = await startTestRouter(t, { socketDir: dir })

  await exchange(port, `GET /svc/ui/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${COOKIE}\r\nConnection: close\r\n\r\n`, () => false)
  const httpCookie = http.seen[0]?.rawHeaders[(http.seen[0]?.rawHeaders.findIndex((h) => h.toLowerCase() === 'cookie') ?? -2) + 1]
  t.equal(httpCookie, COOKIE, 'HTTP: byte-exact (Node decodes header bytes as latin1)')

  const answer = await exchange(port, handshakeHead('/svc/ws/', port, { Cookie: COOKIE, 'X-Name': 'Jos\xe9' }), (got) => got.includes('\r\n\r\n'))
  t.match(answer, /^HTTP\/1\.1 101 /)
  const received = ws.connections[0]?.received ?? ''
  t.ok(received.includes(`\r\ncookie: ${COOKIE}\r\n`), 'WebSocket: the same bytes')
  t.ok(received.includes('\r\nx-name: Jos\xe9\r\n'))
  t.notOk(received.includes('\xc3'), 'nothing re-encoded as UTF-8')
})

t.test('a refused handshake relays the backend\'s header bytes unchanged', async (t) => {
  const dir = makeTempDir(t)
  await startRawBackend(t, join(dir, 'svc', 'ws.sock'), () =>
    Buffer.from('HTTP/1.1 403 Forbidden\r\nX-Reason: \xe9t\xe9 \xff\r\nContent-Length: 2\r\n\r\nno', 'latin1'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const answer = await exchange(port, handshakeHead('/svc/ws/', port), (got) => got.endsWith('\r\n\r\nno'))
  t.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n/)
  t.ok(answer.includes('\r\nX-Reason: \xe9t\xe9 \xff\r\n'), 'latin1 in, latin1 out')
  t.notOk(answer.includes('\xc3'))
})

t.test('a header rule value that latin1 cannot carry is refused, never written truncated', async (t) => {
  const { table } = buildRouteTable(socketsOnly({ dir: '/d', sockets: [{ service: 'svc', name: 'ws', path: '/d/svc/ws.sock', relativePath: 'svc/ws.sock', identity: '1' }] }))
  const plain = matchRoute(table, parseRequestTarget('/svc/ws/')) as RouteMatch
  // U+010A's low byte is LF: written as latin1 it would start a new header line.
  const route = { ...plain.route, options: { ...plain.route.options, requestHeaders: { remove: [], set: { 'x-evil': 'a\u010aInjected: 1' } } } }
  const req = { method: 'GET', url: '/svc/ws/', httpVersion: '1.1', headers: { host: 'h' }, headersDistinct: { host: ['h'] }, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage
  t.throws(() => buildUpstreamHead(req, { ...plain, route } as RouteMatch), { code: 'bad_gateway', status: 502 })
})
