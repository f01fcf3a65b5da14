import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startBackend, type SeenRequest } from './helpers/backend.js'
import { httpGet, rawExchange, rawResponses, statusOf } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'

async function setup (t: Test, handler?: Parameters<typeof startBackend>[2]) {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'svc', 'ui.sock'), handler)
  const router = await startTestRouter(t, { socketDir: dir })
  return { backend, ...router }
}

function last (seen: SeenRequest[]): SeenRequest {
  const req = seen.at(-1)
  if (req === undefined) throw new Error('backend saw no request')
  return req
}

const REQUEST_HOP_HEADERS = ['keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization']

t.test('request hop-by-hop headers are dropped, one by one', async (t) => {
  const { backend, port } = await setup(t)
  for (const name of REQUEST_HOP_HEADERS) {
    const value = name === 'te' ? 'gzip' : name === 'upgrade' ? 'foo/1' : 'x'
    const raw = await rawExchange(port, `GET /svc/ui/${name} HTTP/1.1\r\nHost: 127.0.0.1\r\n${name}: ${value}\r\nConnection: close\r\n\r\n`)
    t.equal(statusOf(raw), 200, `${name} never turns into a 500`)
    t.notOk(name in last(backend.seen).headers, `${name} did not reach the backend`)
  }
  const chunked = await rawExchange(port, 'POST /svc/ui/te HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n')
  t.equal(statusOf(chunked), 200)
  const framed = last(backend.seen).headers
  t.ok(framed['content-length'] === '3' || framed['transfer-encoding'] === 'chunked', 'the router frames the body itself')
})

t.test('TE: trailers survives; other TE values do not', async (t) => {
  const { backend, port } = await setup(t)
  await rawExchange(port, 'GET /svc/ui/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTE: trailers, deflate\r\nConnection: TE, close\r\n\r\n')
  t.equal(last(backend.seen).headers.te, undefined, 'TE listed in Connection goes')
  await rawExchange(port, 'GET /svc/ui/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTE: trailers\r\nConnection: close\r\n\r\n')
  t.equal(last(backend.seen).headers.te, 'trailers')
})

t.test('headers named in Connection are dropped before the proxy adds its own', async (t) => {
  const { backend, port } = await setup(t)
  const raw = await rawResponses(port, 'GET /svc/ui/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Secret: 1\r\nX-Forwarded-For: 10.9.9.9\r\nX-Forwarded-Prefix: /evil\r\nConnection: keep-alive, x-secret, x-forwarded-for, x-forwarded-prefix\r\n\r\n')
  t.equal(statusOf(raw), 200)
  const headers = last(backend.seen).headers
  t.equal(headers['x-secret'], undefined)
  t.equal(headers['x-forwarded-for'], '127.0.0.1', 'the proxy value survives a Connection: x-forwarded-for abuse')
  t.equal(headers['x-forwarded-prefix'], '/svc/ui')
  t.equal(headers.connection, 'keep-alive', 'the upstream connection header is the pool\'s own')
})

t.test('X-Forwarded-* are set, an untrusted client\'s own replaced, Host is kept', async (t) => {
  const { backend, url, port } = await setup(t)
  await httpGet(`${url}/svc/ui/x`, { headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', host: 'app.localhost:8443' } })
  const headers = last(backend.seen).headers
  t.equal(headers['x-forwarded-for'], '127.0.0.1', 'replaced, not appended to (issue #10; test/forwarded-trust.test.ts)')
  t.equal(headers['x-forwarded-proto'], 'http')
  t.equal(headers['x-forwarded-host'], 'app.localhost:8443')
  t.equal(headers['x-forwarded-prefix'], '/svc/ui')
  t.equal(headers.host, 'app.localhost:8443')
  await httpGet(`${url}/svc/ui/x`)
  t.equal(last(backend.seen).headers.host, `127.0.0.1:${port}`)
})

t.test('Expect: 100-continue is answered by the router, not forwarded', async (t) => {
  const { backend, port } = await setup(t)
  const raw = await rawExchange(port, 'POST /svc/ui/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhi')
  t.match(raw, /^HTTP\/1\.1 100 Continue/)
  t.match(raw, /HTTP\/1\.1 200 OK/)
  t.equal(last(backend.seen).headers.expect, undefined)
})

t.test('response hop-by-hop headers are dropped, one by one', async (t) => {
  const { url } = await setup(t, (req, res) => {
    const name = (req.url ?? '/').slice(1)
    res.setHeader(name, name === 'connection' ? 'x-private' : 'x')
    if (name === 'connection') res.setHeader('x-private', 'secret')
    res.setHeader('x-end-to-end', 'kept')
    res.end('ok')
  })
  for (const name of ['connection', 'keep-alive', 'proxy-connection', 'trailer', 'upgrade', 'proxy-authenticate', 'te']) {
    const res = await httpGet(`${url}/svc/ui/${name}`)
    t.equal(res.status, 200, name)
    t.equal(res.headers['x-end-to-end'], 'kept')
    if (name === 'connection') t.equal(res.headers['x-private'], undefined, 'headers named in the response Connection go too')
    else if (name !== 'keep-alive') t.equal(res.headers[name], undefined, `${name} was dropped`)
  }
  const keepAlive = await httpGet(`${url}/svc/ui/keep-alive`)
  t.notMatch(String(keepAlive.headers['keep-alive']), /^x$/, 'the backend keep-alive value is not relayed')
})

t.test('end-to-end response headers pass untouched: Set-Cookie twice, X-Frame-Options, CSP', async (t) => {
  const { url } = await setup(t, (_req, res) => {
    res.setHeader('set-cookie', ['a=1; Path=/; HttpOnly', 'b=2; Path=/'])
    res.setHeader('x-frame-options', 'DENY')
    res.setHeader('content-security-policy', "default-src 'self'")
    res.setHeader('cache-control', 'private, max-age=5')
    res.end('ok')
  })
  const res = await httpGet(`${url}/svc/ui/`)
  t.same(res.headers['set-cookie'], ['a=1; Path=/; HttpOnly', 'b=2; Path=/'])
  t.equal(res.headers['x-frame-options'], 'DENY')
  t.equal(res.headers['content-security-policy'], "default-src 'self'")
  t.equal(res.headers['cache-control'], 'private, max-age=5')
})

t.test('a backend 503 reaches the client once, without retries', async (t) => {
  const { backend, url } = await setup(t, (_req, res) => {
    res.writeHead(503, { 'retry-after': '0' })
    res.end('busy')
  })
  const res = await httpGet(`${url}/svc/ui/`)
  t.equal(res.status, 503)
  t.equal(res.text, 'busy')
  t.equal(backend.seen.length, 1)
})
