import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import t from 'tap'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { makeTestCert } from './helpers/tls-cert.js'
import { nextMessage, openClient, startWsBackend } from './helpers/ws-backend.js'
import { parseListenAddress } from '../src/listen/listen-address.js'

const MiB = 1024 * 1024

async function start (t: Parameters<typeof startTestRouter>[0]): Promise<{ port: number, ca: string, backend: Awaited<ReturnType<typeof startWsBackend>> }> {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'sockets', 'svc', 'ws.sock'))
  const cert = await makeTestCert(dir)
  const { port } = await startTestRouter(t, { socketDir: join(dir, 'sockets'), listen: [parseListenAddress('https://127.0.0.1:0')], tls: { certFile: cert.certFile, keyFile: cert.keyFile } })
  return { port, ca: cert.cert, backend }
}

t.test('wss:// over HTTP/1.1: the raw tunnel on a TLS socket echoes, and the backend sees X-Forwarded-Proto https', async (t) => {
  const { port, ca, backend } = await start(t)
  const ws = await openClient(`wss://127.0.0.1:${port}/svc/ws/echo`, undefined, { ca })
  t.teardown(() => ws.terminate())
  ws.send('over tls')
  t.equal((await nextMessage(ws)).data.toString(), 'over tls')
  const big = randomBytes(4 * MiB)
  ws.send(big)
  t.ok((await nextMessage(ws, 20_000)).data.equals(big), '4 MiB comes back byte for byte')
  t.equal(backend.seen[0]?.headers['x-forwarded-proto'], 'https')
  t.equal(backend.seen[0]?.url, '/echo')
})

t.test('on a TLS listener the router\'s own origin is https://HOST:PORT; the http:// one is another origin', async (t) => {
  const { port, ca } = await start(t)
  const own = await openClient(`wss://127.0.0.1:${port}/svc/ws/`, undefined, { ca, origin: `https://127.0.0.1:${port}` })
  t.teardown(() => own.terminate())
  t.pass('https://127.0.0.1:PORT may open a WebSocket')
  const refused = await openClient(`wss://127.0.0.1:${port}/svc/ws/`, undefined, { ca, origin: `http://127.0.0.1:${port}` }).then(() => null, (err: { status?: number }) => err)
  t.equal(refused?.status, 403, 'http://127.0.0.1:PORT is refused')
})
