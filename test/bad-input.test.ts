import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { connect } from 'node:net'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet, rawExchange, statusOf } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { onceWithin } from './helpers/wait-for.js'

const run = promisify(execFile)

async function setup (t: Parameters<typeof makeTempDir>[0]) {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const router = await startTestRouter(t, { socketDir: dir })
  return { backend, ...router }
}

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`

t.test('dot-segments, raw or encoded, are refused with 400 and never reach a backend', async (t) => {
  const { backend, port, url } = await setup(t)
  for (const path of ['/svc/ui/../x', '/svc/ui/./x', '/svc/../svc/ui/x', '/svc/ui/%2e%2e/x', '/svc/ui/%2E%2e', '/svc/%2e/x', '/%2e%2e/etc/passwd', '/svc/ui/.%2e/x', '/..']) {
    const raw = await rawExchange(port, get(path))
    t.equal(statusOf(raw), 400, path)
    t.match(raw, /"error":"bad_request"/)
  }
  t.equal(backend.seen.length, 0)
  t.equal((await httpGet(`${url}/svc/ui/`)).status, 200, 'the router stays up')
})

t.test('encoded slash, backslash or NUL in the service or name segment is a 400', async (t) => {
  const { backend, port } = await setup(t)
  for (const path of ['/svc%2Fui/x', '/svc%2fui/', '/svc/ui%2F/x', '/svc%5Cui/', '/svc\\ui/', '/svc/ui%00/', '/svc%00/ui/', '/sv%zz/ui/']) {
    t.equal(statusOf(await rawExchange(port, get(path))), 400, path)
  }
  t.equal(backend.seen.length, 0)
})

t.test('encoded characters in the rest of the path pass through untouched', async (t) => {
  const { backend, port } = await setup(t)
  const raw = await rawExchange(port, get('/svc/ui/a%2Fb%5Cc%00d/x.y/...z?%2e%2e'))
  t.equal(statusOf(raw), 200)
  t.equal(backend.seen.at(-1)?.url, '/a%2Fb%5Cc%00d/x.y/...z?%2e%2e')
})

t.test('a percent-encoded service name matches its decoded form', async (t) => {
  const { backend, port } = await setup(t)
  t.equal(statusOf(await rawExchange(port, get('/%73vc/ui/enc'))), 200)
  t.equal(backend.seen.at(-1)?.url, '/enc')
})

t.test('absolute-form request targets route by their path', async (t) => {
  const { backend, port } = await setup(t)
  t.equal(statusOf(await rawExchange(port, get('http://127.0.0.1/svc/ui/abs?q=1'))), 200)
  t.equal(backend.seen.at(-1)?.url, '/abs?q=1')
  t.equal(statusOf(await rawExchange(port, get('http://127.0.0.1'))), 404)
})

t.test('curl --path-as-is with .. is refused', async (t) => {
  const { backend, url } = await setup(t)
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--path-as-is', `${url}/svc/ui/../../etc/passwd`])
  t.equal(stdout, '400')
  t.equal(backend.seen.length, 0)
})

t.test('malformed requests get 400, oversized headers 431, and the router stays up', async (t) => {
  const { backend, port, url } = await setup(t)
  t.equal(statusOf(await rawExchange(port, 'GARBAGE\r\n\r\n')), 400, 'malformed request line')
  t.equal(statusOf(await rawExchange(port, 'GET /svc/ui/\0x HTTP/1.1\r\nHost: a\r\n\r\n')), 400, 'raw NUL')
  t.equal(statusOf(await rawExchange(port, 'GET /svc/ui/ HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n')), 400, 'bad header name')
  const big = await rawExchange(port, `GET /svc/ui/ HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
  t.equal(statusOf(big), 431, 'oversized headers')
  t.match(big, /"error":"headers_too_large"/)
  t.equal(statusOf(await rawExchange(port, 'GET svc/ui/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')), 400, 'relative target')
  t.equal(backend.seen.length, 0)
  t.equal((await httpGet(`${url}/svc/ui/`)).status, 200, 'still serving')
})

t.test('a malformed escape is a 400 for HTTP and WebSocket alike', async (t) => {
  const dir = makeTempDir(t)
  const { startWsBackend, handshakeHead } = await import('./helpers/ws-backend.js')
  const ws = await startWsBackend(t, join(dir, 'svc', 'ui.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  for (const path of ['/svc/ui/%zz/x', '/svc/ui/a%', '/svc/ui/%4']) {
    t.equal(statusOf(await rawExchange(port, get(path))), 400, `HTTP ${path}`)
    t.equal(statusOf(await rawExchange(port, handshakeHead(path, port), 500)), 400, `WebSocket ${path}`)
  }
  t.equal(ws.seen.length, 0, 'nothing reached the backend')
})

t.test('CONNECT gets a 405, not a silent close', async (t) => {
  const { port } = await setup(t)
  const raw = await rawExchange(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
  t.equal(statusOf(raw), 405)
  t.match(raw, /"error":"method_not_allowed"/)
})

t.test('an HTTP/1.0 request without Host reaches the backend with Host: localhost', async (t) => {
  const { backend, port } = await setup(t)
  t.equal(statusOf(await rawExchange(port, 'GET /svc/ui/old HTTP/1.0\r\n\r\n')), 200)
  t.equal(backend.seen.at(-1)?.headers.host, 'localhost')
})

t.test('an absolute-form authority replaces Host (RFC 9112 §3.2.2)', async (t) => {
  const { backend, port } = await setup(t)
  const allowed = await rawExchange(port, `GET http://localhost:${port}/svc/ui/abs HTTP/1.1\r\nHost: other.invalid\r\nConnection: close\r\n\r\n`)
  t.equal(statusOf(allowed), 200)
  t.equal(backend.seen.at(-1)?.headers.host, `localhost:${port}`)
  t.equal(backend.seen.at(-1)?.headers['x-forwarded-host'], `localhost:${port}`)
  const foreign = await rawExchange(port, 'GET http://evil.example/svc/ui/abs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
  t.equal(statusOf(foreign), 403, 'the Host check sees the authority, not the Host header')
})

t.test('a refused CONNECT frees its connection even when the client keeps its side open', async (t) => {
  const { port, router } = await setup(t)
  const server = router.listeners[0]?.server as import('node:net').Server
  const accepted = onceWithin(server, 'connection', 'the router accepting the connection')
  const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  client.on('error', () => {})
  t.teardown(() => client.destroy())
  client.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
  const [socket] = await accepted as [import('node:net').Socket]
  const chunks: Buffer[] = []
  client.on('data', (c: Buffer) => chunks.push(c))
  await onceWithin(client, 'end', 'the 405 and the router\'s FIN')
  t.equal(statusOf(Buffer.concat(chunks).toString()), 405)
  // Found by the fuzzer (issue #10): the router used to end its half and hold the fd for as long as the client did.
  await onceWithin(socket, 'close', 'the router closing its socket while the client still holds its half open')
  t.pass('the router destroyed the refused connection')
})
