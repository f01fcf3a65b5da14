import { join } from 'node:path'
import t, { type Test } from 'tap'
import { parseListenAddress } from '../src/listen/listen-address.js'
import { extendedConnect, readToEnd } from './helpers/h2-connect.js'
import { openH2 } from './helpers/h2-client.js'
import { startTestRouter, type TestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { makeTestCert } from './helpers/tls-cert.js'
import { withTimeout } from './helpers/wait-for.js'
import { startRawBackend, startWsBackend, type WsBackend } from './helpers/ws-backend.js'
import { maskedFrame, readFrame } from './helpers/ws-frames.js'

// RFC 8441 end to end (issue #13): the real router on an https:// listener,
// HTTP/2 chosen by ALPN, an extended CONNECT from a raw HTTP/2 client, and
// an HTTP/1.1 WebSocket backend on a unix socket.

interface Started { readonly router: TestRouter, readonly dir: string, readonly ca: string, readonly authority: string }

async function startTls (t: Test, dir: string, listen = 'https://127.0.0.1:0'): Promise<Started> {
  const cert = await makeTestCert(dir)
  const router = await startTestRouter(t, { socketDir: join(dir, 'sockets'), listen: [parseListenAddress(listen)], tls: { certFile: cert.certFile, keyFile: cert.keyFile } })
  return { router, dir, ca: cert.cert, authority: `127.0.0.1:${router.port}` }
}

async function startWithEcho (t: Test): Promise<Started & { backend: WsBackend }> {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'sockets', 'svc', 'ws.sock'))
  return { ...await startTls(t, dir), backend }
}

t.test('an extended CONNECT over TLS and HTTP/2 echoes a masked frame through the router', async (t) => {
  const { router, ca, authority, backend } = await startWithEcho(t)
  const session = await openH2(t, `https://${authority}`, ca)
  t.equal(session.alpnProtocol, 'h2', 'HTTP/2 by ALPN')
  t.equal(session.remoteSettings.enableConnectProtocol, true, 'the router announces SETTINGS_ENABLE_CONNECT_PROTOCOL = 1')
  const reply = await extendedConnect(session, '/svc/ws/chat', authority, { origin: `https://${authority}` })
  t.equal(reply.status, 200)
  reply.stream.write(maskedFrame('through the router'))
  t.equal((await readFrame(reply.stream)).payload.toString(), 'through the router')
  const seen = backend.seen[0]
  t.equal(seen?.url, '/chat')
  t.match(seen?.headers['sec-websocket-key'], /^[A-Za-z0-9+/]{22}==$/)
  t.equal(seen?.headers['x-forwarded-proto'], 'https')
  t.equal(seen?.headers['x-forwarded-host'], authority, ':authority is the Host the backend is told of')
  t.equal(seen?.headers.host, authority)
  t.equal(seen?.headers.origin, `https://${authority}`, 'the router\'s own https origin is accepted and carried')
  t.equal(router.router.tunnels.registry.list().length, 1)
  const closed = router.waitForLog((line) => line.msg === 'websocket tunnel closed')
  reply.stream.end()
  t.match(await closed, { reason: 'end', http: '2' }, 'logged as an HTTP/2 tunnel')
})

t.test('through the router, a foreign :authority gets 403 and a backend\'s 426 stays a 426', async (t) => {
  const dir = makeTempDir(t)
  const raw = await startRawBackend(t, join(dir, 'sockets', 'svc', 'old.sock'), () => 'HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 8\r\nContent-Length: 0\r\n\r\n')
  const { ca, authority } = await startTls(t, dir)
  const session = await openH2(t, `https://${authority}`, ca)
  const foreign = await extendedConnect(session, '/svc/old/', 'evil.example')
  t.equal(foreign.status, 403)
  t.match(JSON.parse((await readToEnd(foreign.stream)).toString()), { error: 'forbidden' })
  t.equal(raw.connections.length, 0, 'a refused :authority never reaches the backend')
  const refused = await extendedConnect(session, '/svc/old/', authority)
  t.equal(refused.status, 426)
  t.equal(refused.headers['sec-websocket-version'], '8', 'the backend\'s own answer')
  t.equal((await readToEnd(refused.stream)).length, 0)
})

t.test('closing the router cuts an open HTTP/2 tunnel after the grace', async (t) => {
  const { router, ca, authority, backend } = await startWithEcho(t)
  const session = await openH2(t, `https://${authority}`, ca)
  const connection = backend.nextConnection()
  const reply = await extendedConnect(session, '/svc/ws/', authority)
  await connection
  const cut = reply.serverClosed()
  const closing = router.router.close()
  await withTimeout(Promise.all([cut, closing]), 10_000, 'the router to close and cut the tunnel')
  t.equal((await router.waitForLog((line) => line.msg === 'websocket tunnel closed')).reason, 'shutdown')
})

t.test('an h2c listener serves extended CONNECT too', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'sockets', 'svc', 'ws.sock'))
  const router = await startTestRouter(t, { socketDir: join(dir, 'sockets'), listen: [parseListenAddress('h2c://127.0.0.1:0')] })
  const authority = `127.0.0.1:${router.port}`
  const session = await openH2(t, `http://${authority}`)
  const reply = await extendedConnect(session, '/svc/ws/', authority)
  t.equal(reply.status, 200)
  reply.stream.write(maskedFrame('cleartext'))
  t.equal((await readFrame(reply.stream)).payload.toString(), 'cleartext')
})
