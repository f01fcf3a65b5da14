import { once } from 'node:events'
import { constants, type ClientHttp2Session } from 'node:http2'
import t, { type Test } from 'tap'
import { expectedAccept } from '../src/upgrade/check-upgrade-response.js'
import type { WebSocket } from 'ws'
import { extendedConnect, readToEnd, type ConnectReply } from './helpers/h2-connect.js'
import { openH2 } from './helpers/h2-client.js'
import { startExtendedConnectHarness, type Harness } from './helpers/extended-connect-harness.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { withTimeout } from './helpers/wait-for.js'
import { startRawBackend, startWsBackend } from './helpers/ws-backend.js'
import { maskedFrame, OPCODE_TEXT, readFrame } from './helpers/ws-frames.js'

// RFC 8441 on the extended-CONNECT handler alone (issue #13): a cleartext
// HTTP/2 server whose `connect` event calls it, real backends on unix
// sockets, and a raw HTTP/2 client writing WebSocket frames by hand.

const KEY_FORMAT = /^[A-Za-z0-9+/]{22}==$/

/** An open tunnel to an echo backend on `/svc/ws/`, with the backend's side of it. */
async function openTunnel (t: Test, idleTimeoutMs = 0): Promise<{ h: Harness, session: ClientHttp2Session, reply: ConnectReply, ws: WebSocket }> {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, `${dir}/svc/ws.sock`)
  const h = await startExtendedConnectHarness(t, dir, [{ key: 'svc/ws' }], [], idleTimeoutMs)
  const session = await openH2(t, `http://${h.authority}`)
  const connection = backend.nextConnection()
  const reply = await extendedConnect(session, '/svc/ws/', h.authority)
  return { h, session, reply, ws: await connection }
}

t.test('an extended CONNECT echoes through the tunnel, and the backend sees a handshake of the router\'s own', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, `${dir}/svc/ws.sock`)
  const h = await startExtendedConnectHarness(t, dir, [{ key: 'svc/ws' }])
  const session = await openH2(t, `http://${h.authority}`)
  t.equal(session.remoteSettings.enableConnectProtocol, true, 'the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1')

  const reply = await extendedConnect(session, '/svc/ws/feed?x=1', h.authority, { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', cookie: ['a=1', 'b=2'] })
  t.equal(reply.status, 200, 'a verified 101 answers the stream with :status 200')
  t.equal(reply.headers['sec-websocket-accept'], undefined, 'no accept goes to an HTTP/2 client (RFC 8441 §5)')

  const frame = maskedFrame('hello over h2')
  reply.stream.write(frame)
  const echo = await readFrame(reply.stream)
  t.equal(echo.opcode, OPCODE_TEXT)
  t.notOk(echo.masked, 'server frames are unmasked')
  t.equal(echo.payload.toString(), 'hello over h2')

  const seen = backend.seen[0]
  t.ok(seen !== undefined, 'the backend got an upgrade request')
  t.equal(seen?.url, '/feed?x=1', 'the path is rewritten as on HTTP/1.1')
  const key = seen?.headers['sec-websocket-key']
  t.match(key, KEY_FORMAT, 'a base64 16-byte key')
  t.not(key, 'dGhlIHNhbXBsZSBub25jZQ==', 'the key is generated, not the one the client sent')
  t.equal(seen?.headers['sec-websocket-version'], '13')
  t.equal(seen?.headers.upgrade, 'websocket')
  t.equal(seen?.headers.connection, 'Upgrade')
  t.equal(seen?.headers['x-forwarded-prefix'], '/svc/ws')
  t.equal(seen?.headers['x-forwarded-for'], '127.0.0.1')
  t.equal(seen?.headers.cookie, 'a=1; b=2')
  t.equal(seen?.rawHeaders.filter((name, i) => i % 2 === 0 && name.toLowerCase() === 'cookie').length, 1, 'HTTP/2\'s split cookies go as one line (RFC 9113 §8.2.3)')
  t.notOk(seen?.rawHeaders.some((name, i) => i % 2 === 0 && name.startsWith(':')), 'no pseudo-header reaches the backend')
  t.equal(seen?.rawHeaders.filter((name, i) => i % 2 === 0 && name.toLowerCase() === 'sec-websocket-key').length, 1, 'exactly one key')

  const [tunnel] = h.registry.list()
  t.match(tunnel?.client, /^127\.0\.0\.1:\d+$/, 'the admin API shows the HTTP/2 client\'s address')
  t.equal(tunnel?.bytesIn, frame.length, 'bytes in are counted on the HTTP/2 side')
  t.equal(tunnel?.bytesOut, echo.payload.length + 2, 'bytes out are the echo frame')
  t.equal(h.stats.routes.get('/svc/ws/')?.results.opened, 1, 'counted as an opened tunnel')

  reply.stream.end()
  const closed = await h.waitForLog('websocket tunnel closed')
  t.equal(closed.bytesIn, frame.length)
  t.equal(closed.reason, 'end', 'the client\'s END_STREAM is a clean close')
  t.equal(h.health.get('/svc/ws/').state, 'healthy', 'passive health saw the backend answer')
})

t.test('a backend that refuses with 426 answers the stream with :status 426, its headers and body, and nothing is tunnelled', async (t) => {
  const dir = makeTempDir(t)
  const body = '{"need":"version 13"}'
  const backend = await startRawBackend(t, `${dir}/svc/ws.sock`, () =>
    `HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\nConnection: Upgrade, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-Backend: yes\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
  const h = await startExtendedConnectHarness(t, dir, [{ key: 'svc/ws' }])
  const session = await openH2(t, `http://${h.authority}`)
  const reply = await extendedConnect(session, '/svc/ws/', h.authority)
  t.equal(reply.status, 426, 'a 426 stays a 426')
  t.equal(reply.headers['x-backend'], 'yes', 'the backend\'s own headers pass')
  t.equal(reply.headers['sec-websocket-version'], '13')
  t.equal(reply.headers['content-length'], String(body.length))
  for (const name of ['upgrade', 'connection', 'keep-alive', 'x-hop']) t.equal(reply.headers[name], undefined, `no ${name} (RFC 9113 §8.2.2)`)
  // Sent behind the refusal: it must never reach the backend.
  reply.stream.write(maskedFrame('smuggled'))
  t.equal((await readToEnd(reply.stream)).toString(), body, 'the body is relayed and the stream ends')
  await reply.serverClosed()
  const socket = backend.connections[0]?.socket
  if (socket !== undefined && !socket.closed) await withTimeout(once(socket, 'close'), 10_000, 'the backend connection to close')
  const received = backend.connections[0]?.received ?? ''
  t.ok(received.endsWith('\r\n\r\n'), 'the backend got the handshake head')
  t.notMatch(received.slice(received.indexOf('\r\n\r\n') + 4), /./, 'and nothing after it')
  t.equal(h.stats.routes.get('/svc/ws/')?.results.backend_refused, 1, 'counted as refused by the service')
  t.equal(h.registry.size, 0, 'the tunnel slot is free again')
})

t.test('a chunked refusal is decoded and framed by the stream', async (t) => {
  const dir = makeTempDir(t)
  await startRawBackend(t, `${dir}/svc/ws.sock`, () => 'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nno, y\r\n3\r\nou!\r\n0\r\n\r\n')
  const h = await startExtendedConnectHarness(t, dir, [{ key: 'svc/ws' }])
  const session = await openH2(t, `http://${h.authority}`)
  const reply = await extendedConnect(session, '/svc/ws/', h.authority)
  t.equal(reply.status, 403)
  t.equal(reply.headers['transfer-encoding'], undefined)
  t.equal(reply.headers['content-length'], undefined)
  t.equal((await readToEnd(reply.stream)).toString(), 'no, you!')
})

t.test('a 101 with a wrong Sec-WebSocket-Accept gets 502 and nothing is tunnelled', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startRawBackend(t, `${dir}/svc/ws.sock`, () =>
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${expectedAccept('dGhlIHNhbXBsZSBub25jZQ==')}\r\n\r\n`)
  const h = await startExtendedConnectHarness(t, dir, [{ key: 'svc/ws' }])
  const session = await openH2(t, `http://${h.authority}`)
  const reply = await extendedConnect(session, '/svc/ws/', h.authority)
  t.equal(reply.status, 502)
  reply.stream.write(maskedFrame('smuggled'))
  const body = JSON.parse((await readToEnd(reply.stream)).toString()) as Record<string, unknown>
  t.same(body, { error: 'bad_gateway', message: 'The service sent an invalid WebSocket handshake response.', service: 'svc' }, 'the JSON body GatewayError gives elsewhere')
  await reply.serverClosed()
  const received = backend.connections[0]?.received ?? ''
  t.notMatch(received.slice(received.indexOf('\r\n\r\n') + 4), /./, 'nothing reached the backend after its head')
  t.equal(h.stats.routes.get('/svc/ws/')?.results.failed, 1)
  t.equal(h.stats.routes.get('/svc/ws/')?.results.opened, 0)
})

t.test('a 2xx that is not a verified 101, or another 1xx, gets 502: on HTTP/2 a 2xx would open the tunnel', async (t) => {
  const dir = makeTempDir(t)
  const answers = ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'HTTP/1.1 100 Continue\r\n\r\n']
  let next = 0
  await startRawBackend(t, `${dir}/svc/ws.sock`, () => answers[next++] ?? null)
  const h = await startExtendedConnectHarness(t, dir, [{ key: 'svc/ws' }])
  const session = await openH2(t, `http://${h.authority}`)
  for (const answer of answers) {
    const reply = await extendedConnect(session, '/svc/ws/', h.authority)
    t.equal(reply.status, 502, answer.split('\r\n')[0] ?? answer)
    t.match(JSON.parse((await readToEnd(reply.stream)).toString()), { error: 'bad_gateway' })
  }
})

t.test('the subprotocol and Origin are carried to the backend, and its choice back to the client', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, `${dir}/svc/ws.sock`, { handleProtocols: (offered) => offered.has('superchat') ? 'superchat' : false })
  const h = await startExtendedConnectHarness(t, dir, [{ key: 'svc/ws' }], ['https://app.example'])
  const session = await openH2(t, `http://${h.authority}`)
  const reply = await extendedConnect(session, '/svc/ws/', h.authority, { 'sec-websocket-protocol': 'chat, superchat', origin: 'https://app.example' })
  t.equal(reply.status, 200)
  t.equal(reply.headers['sec-websocket-protocol'], 'superchat', 'the backend\'s choice reaches the client')
  t.equal(backend.seen[0]?.headers['sec-websocket-protocol'], 'chat, superchat', 'the offer reaches the backend')
  t.equal(backend.seen[0]?.headers.origin, 'https://app.example')
  reply.stream.write(maskedFrame('sub'))
  t.equal((await readFrame(reply.stream)).payload.toString(), 'sub')
})

t.test('extensions the backend accepts are answered with the 200', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, `${dir}/svc/ws.sock`, { perMessageDeflate: true })
  const h = await startExtendedConnectHarness(t, dir, [{ key: 'svc/ws' }])
  const session = await openH2(t, `http://${h.authority}`)
  const reply = await extendedConnect(session, '/svc/ws/', h.authority, { 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' })
  t.equal(reply.status, 200)
  t.equal(backend.seen[0]?.headers['sec-websocket-extensions'], 'permessage-deflate; client_max_window_bits')
  t.match(reply.headers['sec-websocket-extensions'], /^permessage-deflate/)
})

t.test('the router refuses with the same statuses and JSON bodies as on HTTP/1.1, before any backend connection', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, `${dir}/svc/ws.sock`)
  await startWsBackend(t, `${dir}/svc/nows.sock`)
  const h = await startExtendedConnectHarness(t, dir, [{ key: 'svc/ws' }, { key: 'svc/nows', options: { websocket: false } }])
  const session = await openH2(t, `http://${h.authority}`)
  const cases: [string, string, Record<string, string>, number, string][] = [
    ['a foreign :authority', '/svc/ws/', { ':authority': 'evil.example' }, 403, 'forbidden'],
    ['a foreign :authority and Host', '/svc/ws/', { ':authority': 'evil.example', host: 'evil.example' }, 403, 'forbidden'],
    ['a Host that differs from :authority', '/svc/ws/', { host: 'evil.example' }, 400, 'bad_request'],
    ['a foreign Origin', '/svc/ws/', { origin: 'https://evil.example' }, 403, 'forbidden'],
    ['a route with websocket: false', '/svc/nows/', {}, 403, 'forbidden'],
    ['no route', '/nothing/here/', {}, 404, 'no_route'],
    ['version 8 (RFC 6455 §4.4)', '/svc/ws/', { 'sec-websocket-version': '8' }, 426, 'upgrade_required']
  ]
  for (const [name, path, { ':authority': authority = h.authority, ...extra }, status, code] of cases) {
    const reply = await extendedConnect(session, path, authority, extra)
    t.equal(reply.status, status, name)
    t.equal(reply.headers['cache-control'], 'no-store', `${name}: not cached`)
    t.match(JSON.parse((await readToEnd(reply.stream)).toString()), { error: code }, `${name}: JSON body`)
    if (code === 'upgrade_required') t.equal(reply.headers['sec-websocket-version'], '13', 'a 426 names the version')
  }
  const other = await extendedConnect(session, '/svc/ws/', h.authority, {}, 'connect-udp')
  t.equal(other.status, 501, 'another :protocol is not implemented')
  t.match(JSON.parse((await readToEnd(other.stream)).toString()), { error: 'not_implemented' })
  t.equal(backend.seen.length, 0, 'no refusal reached a backend')
  t.equal(h.registry.size, 0)
})

t.test('a request without Sec-WebSocket-Version is served: the router speaks 13 to the backend', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, `${dir}/svc/ws.sock`)
  const h = await startExtendedConnectHarness(t, dir, [{ key: 'svc/ws' }])
  const session = await openH2(t, `http://${h.authority}`)
  const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': '/svc/ws/', ':authority': h.authority }, { endStream: false })
  const [headers] = await withTimeout(once(stream, 'response'), 10_000, 'the response') as [Record<string, unknown>]
  t.equal(headers[':status'], 200)
  t.equal(backend.seen[0]?.headers['sec-websocket-version'], '13')
  stream.close()
})

t.test('a client RST_STREAM closes the backend connection', async (t) => {
  const { h, session, reply, ws } = await openTunnel(t)
  reply.stream.close(constants.NGHTTP2_CANCEL)
  await withTimeout(once(ws, 'close'), 10_000, 'the backend side to close')
  const closed = await h.waitForLog('websocket tunnel closed')
  t.equal(closed.reason, 'error', 'a reset is not a clean end')
  t.equal(h.registry.size, 0, 'the slot is free')
  t.equal(session.destroyed, false, 'the session itself lives on')
})

t.test('the backend closing ends the stream', async (t) => {
  const { h, reply, ws } = await openTunnel(t)
  const ended = readToEnd(reply.stream)
  ws.terminate()
  await ended
  await reply.serverClosed()
  t.pass('END_STREAM arrived and the stream closed')
  await h.waitForLog('websocket tunnel closed')
  t.equal(h.registry.size, 0)
})

t.test('a registry drain cuts an HTTP/2 tunnel, both sides', async (t) => {
  const { h, session, reply, ws } = await openTunnel(t)
  const streamClosed = once(reply.stream, 'close')
  const backendClosed = once(ws, 'close')
  await withTimeout(h.registry.drain(0), 10_000, 'the drain')
  await withTimeout(Promise.all([streamClosed, backendClosed]), 10_000, 'both sides to close')
  t.equal(reply.stream.rstCode, constants.NGHTTP2_CANCEL, 'the client sees its stream reset with CANCEL, the RST of RFC 8441 §5')
  t.equal((await h.waitForLog('websocket tunnel closed')).reason, 'shutdown')
  const late = await extendedConnect(session, '/svc/ws/', h.authority)
  t.equal(late.status, 503, 'a draining router refuses new tunnels')
})

t.test('a quiet HTTP/2 tunnel is cut by the idle timeout, both sides', async (t) => {
  const { h, reply, ws } = await openTunnel(t, 300)
  const backendClosed = once(ws, 'close')
  await reply.serverClosed()
  await withTimeout(backendClosed, 10_000, 'the backend side to close')
  t.equal(reply.stream.rstCode, constants.NGHTTP2_CANCEL, 'reset with CANCEL')
  t.equal((await h.waitForLog('websocket tunnel closed')).reason, 'idle')
})

t.test('a client that does not read holds the backend back through HTTP/2 flow control, and then gets every byte', async (t) => {
  const MiB = 1024 * 1024
  const total = 64 * MiB
  const dir = makeTempDir(t)
  let pushed = 0
  await startWsBackend(t, `${dir}/svc/ws.sock`, {
    onConnection: (ws) => {
      const chunk = Buffer.alloc(MiB, 0x61)
      // One frame in flight at a time, so the backend itself buffers almost nothing.
      const next = (err?: Error | null): void => {
        if ((err !== undefined && err !== null) || pushed >= total) return
        pushed += MiB
        ws.send(chunk, { binary: true }, next)
      }
      next()
    }
  })
  const h = await startExtendedConnectHarness(t, dir, [{ key: 'svc/ws' }])
  const session = await openH2(t, `http://${h.authority}`)
  const reply = await extendedConnect(session, '/svc/ws/', h.authority)
  reply.stream.pause()
  // Stalled once many round trips through the router went by while the backend's frame stayed pending.
  let last = -1
  let still = 0
  while (still < 20) {
    const probe = session.request({ ':path': '/probe' })
    probe.resume()
    await withTimeout(once(probe, 'close'), 10_000, 'a probe request')
    still = pushed === last ? still + 1 : 0
    last = pushed
  }
  t.ok(pushed < 16 * MiB, `the backend stalled after ${pushed / MiB} MiB of ${total / MiB}`)
  let received = 0
  reply.stream.on('data', (chunk: Buffer) => { received += chunk.length })
  const wire = total + (total / MiB) * 10
  await withTimeout(new Promise<void>((resolve) => {
    const check = (): void => { if (received >= wire) resolve() }
    reply.stream.on('data', check)
    reply.stream.resume()
  }), 30_000, 'every byte')
  t.equal(received, wire, 'all 64 MiB of frames arrived')
})
