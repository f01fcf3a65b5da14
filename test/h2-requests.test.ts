import { createHash, randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync } from 'node:fs'
import { constants } from 'node:http2'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { h2Request, openH2 } from './helpers/h2-client.js'
import { startTestRouter } from './helpers/router.js'
import { makeStaleSocket } from './helpers/stale-socket.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { makeTestCert, type TestCert } from './helpers/tls-cert.js'
import { DEADLINE_MS, withTimeout } from './helpers/wait-for.js'
import { parseListenAddress } from '../src/listen/listen-address.js'

const run = promisify(execFile)
const MiB = 1024 * 1024

interface Teardown { teardown (fn: () => unknown): void }

async function tlsRouter (t: Teardown & Parameters<typeof startTestRouter>[0], dir: string, extra: Partial<Parameters<typeof startTestRouter>[1]> = {}): Promise<{ url: string, port: number, cert: TestCert, router: Awaited<ReturnType<typeof startTestRouter>> }> {
  const cert = await makeTestCert(dir)
  const router = await startTestRouter(t, { socketDir: join(dir, 'sockets'), listen: [parseListenAddress('https://127.0.0.1:0')], tls: { certFile: cert.certFile, keyFile: cert.keyFile }, ...extra })
  return { url: router.url, port: router.port, cert, router }
}

/** What the echo backend saw, as JSON. */
function seenHeaders (text: string): Record<string, string> {
  return (JSON.parse(text) as { headers: Record<string, string> }).headers
}

t.test('curl --http2 and --http1.1 on one https:// listener: each protocol by ALPN, X-Forwarded-Proto https', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'sockets', 'svc', 'api.sock'))
  const { url, cert } = await tlsRouter(t, dir)
  for (const [flag, version] of [['--http2', '2'], ['--http1.1', '1.1']] as const) {
    const { stdout } = await run('curl', ['-sS', flag, '--cacert', cert.certFile, '-w', '\n%{http_version}', `${url}/svc/api/x?y=1`])
    const [body = '', seenVersion] = stdout.split('\n')
    t.equal(seenVersion, version, `${flag} negotiated HTTP/${version}`)
    const seen = JSON.parse(body) as { url: string, headers: Record<string, string> }
    t.equal(seen.url, '/x?y=1', `${flag}: the path rules are the same`)
    t.equal(seen.headers['x-forwarded-proto'], 'https', `${flag}: X-Forwarded-Proto https`)
    t.equal(seen.headers['x-forwarded-prefix'], '/svc/api')
  }
})

t.test(':authority is the Host: the backend gets it as Host and X-Forwarded-Host, and never a pseudo-header', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'sockets', 'svc', 'api.sock'))
  const { url, port, cert } = await tlsRouter(t, dir)
  const session = await openH2(t, url, cert.cert)
  const res = await h2Request(session, { ':path': '/svc/api/a', ':authority': `localhost:${port}` })
  t.equal(res.status, 200)
  const headers = seenHeaders(res.text)
  t.equal(headers.host, `localhost:${port}`)
  t.equal(headers['x-forwarded-host'], `localhost:${port}`)
  const names = (backend.seen[0]?.rawHeaders ?? []).filter((_, i) => i % 2 === 0)
  t.same(names.filter((n) => n.startsWith(':')), [], 'no pseudo-header reached the backend')
  t.equal(names.filter((n) => n.toLowerCase() === 'host').length, 1, 'exactly one Host line')
})

t.test('a foreign :authority gets 403 over HTTP/2, and a Host that contradicts :authority gets 400', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'sockets', 'svc', 'api.sock'))
  const { url, port, cert } = await tlsRouter(t, dir)
  const session = await openH2(t, url, cert.cert)
  const foreign = await h2Request(session, { ':path': '/svc/api/a', ':authority': 'evil.example' })
  t.equal(foreign.status, 403)
  t.match(JSON.parse(foreign.text), { error: 'forbidden' })
  const mismatch = await h2Request(session, { ':path': '/svc/api/a', ':authority': `127.0.0.1:${port}`, host: 'evil.example' })
  t.equal(mismatch.status, 400)
  t.equal(backend.seen.length, 0, 'neither reached the backend')
})

t.test('the same routing errors over HTTP/2: 404 for no route, a clear 502 for a stale socket', async (t) => {
  const dir = makeTempDir(t)
  mkdirSync(join(dir, 'sockets', 'gone'), { recursive: true })
  await makeStaleSocket(join(dir, 'sockets', 'gone', 'ui.sock'))
  const { url, cert } = await tlsRouter(t, dir)
  const session = await openH2(t, url, cert.cert)
  const none = await h2Request(session, { ':path': '/nope/x/', accept: 'application/json' })
  t.equal(none.status, 404)
  t.match(JSON.parse(none.text), { error: 'no_route' })
  const stale = await h2Request(session, { ':path': '/gone/ui/', accept: 'application/json' })
  t.equal(stale.status, 502)
  t.match(JSON.parse(stale.text), { error: 'bad_gateway', service: 'gone' })
  t.notMatch(stale.text, dir, 'no internal path in the answer')
})

t.test('an HTTP/2 upload without Content-Length streams through whole, and a 10 MiB download arrives intact', async (t) => {
  const dir = makeTempDir(t)
  const download = randomBytes(10 * MiB)
  await startBackend(t, join(dir, 'sockets', 'svc', 'files.sock'), (req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      for (let i = 0; i < 10; i++) res.write(download.subarray(i * MiB, (i + 1) * MiB))
      res.end()
      return
    }
    const hash = createHash('sha256')
    let bytes = 0
    req.on('data', (c: Buffer) => { hash.update(c); bytes += c.length })
    req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex'), te: req.headers['transfer-encoding'] ?? null, length: req.headers['content-length'] ?? null })))
  })
  const { url, cert } = await tlsRouter(t, dir)
  const session = await openH2(t, url, cert.cert)

  const upload = randomBytes(3 * MiB)
  const stream = session.request({ ':method': 'POST', ':path': '/svc/files/up', 'content-type': 'application/json' })
  // In pieces, as a browser's streaming fetch sends them: no Content-Length anywhere.
  for (let i = 0; i < 3; i++) stream.write(upload.subarray(i * MiB, (i + 1) * MiB))
  stream.end()
  const parts: Buffer[] = []
  stream.on('data', (c: Buffer) => parts.push(c))
  await withTimeout(once(stream, 'end'), DEADLINE_MS, 'upload answer')
  t.same(JSON.parse(Buffer.concat(parts).toString()), {
    bytes: 3 * MiB,
    sha256: createHash('sha256').update(upload).digest('hex'),
    te: 'chunked',
    length: null
  }, 'the backend got every byte, chunked over HTTP/1.1')

  const got = await h2Request(session, { ':path': '/svc/files/big' })
  t.equal(got.status, 200)
  t.equal(got.body.length, 10 * MiB)
  t.equal(createHash('sha256').update(got.body).digest('hex'), createHash('sha256').update(download).digest('hex'))
})

t.test('server-sent events over HTTP/2 arrive one by one, never buffered', async (t) => {
  const dir = makeTempDir(t)
  let sendSecond: () => void = () => {}
  await startBackend(t, join(dir, 'sockets', 'svc', 'events.sock'), (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    res.write('data: one\n\n')
    sendSecond = () => res.end('data: two\n\n')
  })
  const { url, cert } = await tlsRouter(t, dir)
  const session = await openH2(t, url, cert.cert)
  const stream = session.request({ ':path': '/svc/events/' })
  const [first] = await withTimeout(once(stream, 'data'), DEADLINE_MS, 'the first event') as [Buffer]
  t.equal(first.toString(), 'data: one\n\n', 'the first event came while the backend still held the response open')
  sendSecond()
  const [second] = await withTimeout(once(stream, 'data'), DEADLINE_MS, 'the second event') as [Buffer]
  t.equal(second.toString(), 'data: two\n\n')
})

t.test('RST_STREAM from the client aborts the request to the backend', async (t) => {
  const dir = makeTempDir(t)
  let backendClosed: Promise<unknown[]> | null = null
  let started: () => void = () => {}
  const startedPromise = new Promise<void>((resolve) => { started = resolve })
  await startBackend(t, join(dir, 'sockets', 'svc', 'slow.sock'), (req, res) => {
    backendClosed = once(res, 'close')
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('working')
    started()
    req.resume()
  })
  const { url, cert, router } = await tlsRouter(t, dir)
  const session = await openH2(t, url, cert.cert)
  const stream = session.request({ ':path': '/svc/slow/' })
  stream.on('error', () => {})
  await withTimeout(startedPromise, DEADLINE_MS, 'the backend request')
  await withTimeout(once(stream, 'data'), DEADLINE_MS, 'the first bytes')
  stream.close(constants.NGHTTP2_CANCEL)
  await withTimeout(backendClosed as unknown as Promise<unknown>, DEADLINE_MS, 'the backend request to be aborted')
  const line = await router.waitForLog((l) => l.msg === 'request' && l.url === '/svc/slow/')
  t.equal(line.aborted, true, 'the access log says the client left')
  t.equal(line.http, '2', 'and that HTTP/2 carried the request')
  t.pass('the backend saw its request end')
})

t.test('a CONNECT without :protocol gets 405 over HTTP/2, as on HTTP/1.1', async (t) => {
  const dir = makeTempDir(t)
  const { url, cert, port } = await tlsRouter(t, dir)
  const session = await openH2(t, url, cert.cert)
  const res = await h2Request(session, { ':method': 'CONNECT', ':authority': `127.0.0.1:${port}` })
  t.equal(res.status, 405)
  t.match(JSON.parse(res.text), { error: 'method_not_allowed' })
})

t.test('the read-only admin surface answers over HTTP/2 on a loopback https:// listener', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'sockets', 'svc', 'api.sock'))
  const { url, cert } = await tlsRouter(t, dir)
  const session = await openH2(t, url, cert.cert)
  const routes = await h2Request(session, { ':path': '/_sockrouter/routes' })
  t.equal(routes.status, 200)
  t.match(JSON.parse(routes.text), { routes: [{ prefix: '/svc/api' }] })
})

t.test('h2c:// speaks HTTP/2 with prior knowledge, with X-Forwarded-Proto http', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'sockets', 'svc', 'api.sock'))
  const { port } = await startTestRouter(t, { socketDir: join(dir, 'sockets'), listen: [parseListenAddress('h2c://127.0.0.1:0')] })
  const { stdout } = await run('curl', ['-sS', '--http2-prior-knowledge', '-w', '\n%{http_version}', `http://127.0.0.1:${port}/svc/api/z`])
  const [body = '', version] = stdout.split('\n')
  t.equal(version, '2')
  t.equal(seenHeaders(body)['x-forwarded-proto'], 'http')
})

t.test('shutdown sends GOAWAY: an HTTP/2 request in flight still gets its whole answer', async (t) => {
  const dir = makeTempDir(t)
  let finish: () => void = () => {}
  let started: () => void = () => {}
  const startedPromise = new Promise<void>((resolve) => { started = resolve })
  await startBackend(t, join(dir, 'sockets', 'svc', 'slow.sock'), (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('first ')
    started()
    finish = () => res.end('last')
  })
  const { url, cert, router } = await tlsRouter(t, dir, { shutdownGraceMs: DEADLINE_MS })
  const session = await openH2(t, url, cert.cert)
  const goaway = once(session, 'goaway')
  const answer = h2Request(session, { ':path': '/svc/slow/' })
  await withTimeout(startedPromise, DEADLINE_MS, 'the backend request')
  const closed = router.router.close()
  await withTimeout(goaway, DEADLINE_MS, 'GOAWAY')
  finish()
  const res = await answer
  t.equal(res.status, 200)
  t.equal(res.text, 'first last', 'the stream in progress finished after GOAWAY')
  await withTimeout(closed, DEADLINE_MS, 'the router to close')
})

t.test('an HTTP/2 upload that stalls gets 408 on its stream, and its backend request is aborted', async (t) => {
  const dir = makeTempDir(t)
  let backendClosed: Promise<unknown[]> | null = null
  let started: () => void = () => {}
  const startedPromise = new Promise<void>((resolve) => { started = resolve })
  await startBackend(t, join(dir, 'sockets', 'svc', 'up.sock'), (req, res) => {
    backendClosed = once(res, 'close')
    req.resume()
    started()
  })
  const { url, cert } = await tlsRouter(t, dir, { bodyIdleTimeoutMs: 300 })
  const session = await openH2(t, url, cert.cert)
  const stream = session.request({ ':method': 'POST', ':path': '/svc/up/' })
  stream.write('the first part, then nothing')
  await withTimeout(startedPromise, DEADLINE_MS, 'the backend request')
  const [head] = await withTimeout(once(stream, 'response'), DEADLINE_MS, 'the 408') as [Record<string, unknown>]
  t.equal(head[':status'], 408)
  const parts: Buffer[] = []
  stream.on('data', (c: Buffer) => parts.push(c))
  await withTimeout(once(stream, 'end'), DEADLINE_MS, 'the 408 body')
  t.match(JSON.parse(Buffer.concat(parts).toString()), { error: 'request_timeout' })
  await withTimeout(backendClosed as unknown as Promise<unknown>, DEADLINE_MS, 'the backend request to be aborted')
  const other = await h2Request(session, { ':path': '/nope/x/', accept: 'application/json' })
  t.equal(other.status, 404, 'the session still serves other streams')
})
