import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { WebSocket } from 'ws'
import { startDemoService } from '../src/demo/demo-service.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { expectedAccept } from '../src/upgrade/check-upgrade-response.js'
import { handshakeHead, nextMessage, openClient, startRawBackend, startWsBackend, withTimeout } from './helpers/ws-backend.js'

const KiB = 1024
const MiB = 1024 * KiB

t.test('text and binary messages of every size class echo through the tunnel intact', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/echo`)
  t.teardown(() => ws.terminate())

  ws.send('hello, tunnel ✓')
  const text = await nextMessage(ws)
  t.equal(text.isBinary, false)
  t.equal(text.data.toString(), 'hello, tunnel ✓')

  // 0 and 125 bytes use the short length form, 64 KiB the 16-bit one, 16 MiB the 64-bit one (RFC 6455 §5.2).
  for (const size of [0, 125, 64 * KiB, 16 * MiB]) {
    const payload = randomBytes(size)
    ws.send(payload)
    const echo = await nextMessage(ws, 20_000)
    t.equal(echo.isBinary, true, `${size} B is binary`)
    t.ok(echo.data.equals(payload), `${size} B comes back byte for byte`)
  }
})

t.test('a fragmented message is reassembled by the far end', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  t.teardown(() => ws.terminate())
  ws.send('frag-', { fin: false })
  ws.send('ment-', { fin: false })
  ws.send('ed', { fin: true })
  t.equal((await nextMessage(ws)).data.toString(), 'frag-ment-ed')
})

t.test('ping gets a pong from the backend, and the backend\'s ping reaches the client', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const serverSide = backend.nextConnection()
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  t.teardown(() => ws.terminate())
  const pong = once(ws, 'pong')
  ws.ping(Buffer.from('are you there'))
  t.equal(((await withTimeout(pong, 5000, 'pong'))[0] as Buffer).toString(), 'are you there')
  const server = await serverSide
  const ping = once(ws, 'ping')
  server.ping(Buffer.from('and you?'))
  t.equal(((await withTimeout(ping, 5000, 'ping'))[0] as Buffer).toString(), 'and you?')
})

t.test('subprotocol and permessage-deflate are negotiated end to end', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'), {
    perMessageDeflate: { threshold: 0 },
    handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false)
  })
  const { port } = await startTestRouter(t, { socketDir: dir })
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/`, ['chat.v1', 'chat.v2'], { perMessageDeflate: { threshold: 0 } })
  t.teardown(() => ws.terminate())
  t.equal(ws.protocol, 'chat.v2', 'the backend picked the subprotocol')
  t.match(ws.extensions, /permessage-deflate/, 'the backend accepted compression')
  t.equal(backend.seen[0]?.headers['sec-websocket-protocol'], 'chat.v1,chat.v2')
  t.match(backend.seen[0]?.headers['sec-websocket-extensions'], /permessage-deflate/)
  const big = 'compressible '.repeat(10_000)
  ws.send(big)
  t.equal((await nextMessage(ws)).data.toString(), big)
})

t.test('a backend close code and reason reach the client', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'), {
    onConnection: (ws) => ws.on('message', () => ws.close(4001, 'bye for now'))
  })
  const { port } = await startTestRouter(t, { socketDir: dir })
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  const closed = once(ws, 'close')
  ws.send('close please')
  const [code, reason] = await withTimeout(closed, 5000, 'close') as [number, Buffer]
  t.equal(code, 4001)
  t.equal(reason.toString(), 'bye for now')
})

t.test('the backend sees the rewritten path, the query byte for byte, and the same X-Forwarded-* as HTTP', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/live/feed?room=a%20b&x=%2F`, undefined, {
    headers: { cookie: 'session=abc', 'x-forwarded-for': '10.0.0.9' },
    origin: `http://127.0.0.1:${port}`
  })
  t.teardown(() => ws.terminate())
  const seen = backend.seen[0]
  t.ok(seen, 'the backend saw the handshake')
  t.equal(seen?.url, '/live/feed?room=a%20b&x=%2F')
  const h = seen?.headers ?? {}
  t.equal(h['x-forwarded-prefix'], '/svc/ws')
  t.equal(h['x-forwarded-proto'], 'http')
  t.equal(h['x-forwarded-host'], `127.0.0.1:${port}`)
  t.equal(h['x-forwarded-for'], '127.0.0.1', 'an untrusted client\'s own is replaced, as for HTTP (issue #10)')
  t.equal(h.host, `127.0.0.1:${port}`, 'Host passes unchanged')
  t.equal(h.cookie, 'session=abc')
  t.equal(h.origin, `http://127.0.0.1:${port}`)
  t.equal(h.connection, 'Upgrade')
  t.equal(h.upgrade, 'websocket')
  t.equal(h['sec-websocket-version'], '13')
})

t.test('headers the client names in Connection are dropped; Connection and Upgrade are set back', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const socket = connect(port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  socket.on('error', () => {})
  const accepted = backend.nextConnection()
  socket.write(handshakeHead('/svc/ws/', port, { Connection: 'keep-alive, Upgrade, X-Drop-Me', 'X-Drop-Me': 'secret', 'Keep-Alive': 'timeout=5', 'X-Forwarded-Prefix': '/forged' }))
  await accepted
  const h = backend.seen[0]?.headers ?? {}
  t.equal(h['x-drop-me'], undefined, 'a header named in Connection is hop-by-hop (RFC 9110 §7.6.1)')
  t.equal(h['keep-alive'], undefined)
  t.equal(h.connection, 'Upgrade')
  t.equal(h.upgrade, 'websocket')
  t.equal(h['x-forwarded-prefix'], '/svc/ws', 'the router\'s value, not the client\'s')
})

t.test('the client gets the backend\'s 101 with Upgrade, Connection and Sec-WebSocket-Accept', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const ws = new WebSocket(`ws://127.0.0.1:${port}/svc/ws/`)
  t.teardown(() => ws.terminate())
  const [res] = await withTimeout(once(ws, 'upgrade'), 5000, 'upgrade') as [{ statusCode: number, headers: Record<string, string> }]
  t.equal(res.statusCode, 101)
  t.equal(res.headers.upgrade?.toLowerCase(), 'websocket')
  t.match(res.headers.connection, /upgrade/i)
  t.ok(res.headers['sec-websocket-accept'])
})

t.test('tunnels are counted and logged with service, duration and bytes', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, router, waitForLog } = await startTestRouter(t, { socketDir: dir })
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  await waitForLog((l) => l.msg === 'websocket tunnel open')
  t.equal(router.tunnels.stats.active, 1)
  ws.send('x'.repeat(1000))
  await nextMessage(ws)
  ws.close(1000)
  const line = await waitForLog((l) => l.msg === 'websocket tunnel closed')
  t.equal(line.service, 'svc')
  t.equal(line.socket, 'svc/ws.sock', 'the socket name, never its absolute path')
  t.type(line.ms, 'number')
  t.ok((line.bytesIn as number) > 1000, 'client-to-backend bytes counted')
  t.ok((line.bytesOut as number) > 1000, 'backend-to-client bytes counted')
  const stats = router.tunnels.stats.snapshot()
  t.equal(stats.active, 0)
  t.equal(stats.opened, 1)
  t.equal(stats.bytesClientToBackend, line.bytesIn)
  t.equal(stats.bytesBackendToClient, line.bytesOut)
  t.equal(router.tunnels.registry.size, 0)
})

t.test('an open tunnel\'s bytes are counted before it closes, frame for frame', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, router } = await startTestRouter(t, { socketDir: dir })
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  ws.send('y'.repeat(1000))
  await nextMessage(ws)
  const stats = router.tunnels.stats.snapshot()
  // RFC 6455 §5.2: 2 + 2 length bytes, plus a 4-byte mask from the client only.
  t.equal(stats.bytesClientToBackend, 1008, 'the masked client frame')
  t.equal(stats.bytesBackendToClient, 1004, 'the unmasked echo')
  ws.close(1000)
  await once(ws, 'close')
})

t.test('bytes that arrive together with either head are counted as tunnel bytes', async (t) => {
  const dir = makeTempDir(t)
  const key = 'dGhlIHNhbXBsZSBub25jZQ=='
  const serverFrame = Buffer.from([0x81, 0x05, ...Buffer.from('hello')])
  const backend = await startRawBackend(t, join(dir, 'svc', 'ws.sock'), () => Buffer.concat([
    Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${expectedAccept(key)}\r\n\r\n`),
    serverFrame
  ]))
  const { port, router, waitForLog } = await startTestRouter(t, { socketDir: dir })
  const client = connect(port, '127.0.0.1')
  t.teardown(() => client.destroy())
  await once(client, 'connect')
  // A masked 5-byte text frame sent right behind the request head, before any 101 (RFC 6455 §5.3).
  const mask = [1, 2, 3, 4]
  const clientFrame = Buffer.from([0x81, 0x85, ...mask, ...Buffer.from('world').map((b, i) => b ^ (mask[i % 4] as number))])
  client.write(Buffer.concat([Buffer.from(handshakeHead('/svc/ws/', port, {}, key)), clientFrame]))
  let received = Buffer.alloc(0)
  await withTimeout(new Promise<void>((resolve) => {
    client.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.subarray(received.indexOf('\r\n\r\n') + 4).equals(serverFrame)) resolve()
    })
  }), 10_000, 'the 101 and the frame behind it')
  const conn = backend.connections[0]
  if (conn === undefined) throw new Error('the backend saw no connection')
  await withTimeout((async () => { while (!conn.received.endsWith(clientFrame.toString('latin1'))) await once(conn.socket, 'data') })(), 10_000, 'the client frame at the backend')
  const open = router.tunnels.stats.snapshot()
  t.equal(open.bytesClientToBackend, clientFrame.length, 'the client frame held back until the 101')
  t.equal(open.bytesBackendToClient, serverFrame.length, 'the frame that came with the 101')
  client.destroy()
  const line = await waitForLog((l) => l.msg === 'websocket tunnel closed')
  t.equal(line.bytesIn, clientFrame.length)
  t.equal(line.bytesOut, serverFrame.length)
})

t.test('the demo service\'s /ws echo works through the router', async (t) => {
  const dir = makeTempDir(t)
  const demo = await startDemoService(join(dir, 'demo', 'ui.sock'))
  t.teardown(() => demo.close())
  const { port } = await startTestRouter(t, { socketDir: dir })
  const ws = await openClient(`ws://127.0.0.1:${port}/demo/ui/ws`, undefined, { origin: `http://127.0.0.1:${port}` })
  t.teardown(() => ws.terminate())
  ws.send('hello from a test')
  t.equal((await nextMessage(ws)).data.toString(), 'hello from a test')
})
