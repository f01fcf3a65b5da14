import { execFile } from 'node:child_process'
import { request } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { startBackend, type Backend } from './helpers/backend.js'
import { rawExchange } from './helpers/http-client.js'
import { startTestRouter, type TestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startWsBackend, withTimeout } from './helpers/ws-backend.js'

const run = promisify(execFile)
// What `curl --http2` and Java's HttpClient add to a plain http:// request.
const H2C = { Connection: 'Upgrade, HTTP2-Settings', Upgrade: 'h2c', 'HTTP2-Settings': 'AAMAAABkAARAAAAAAAIAAAAA' }
const H2C_LINES = 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n'

/** Echoes method, url, headers and the body it received. */
async function setUp (t: { teardown (fn: () => unknown): void }): Promise<{ backend: Backend, router: TestRouter }> {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'svc', 'ui.sock'), (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }))
    })
  })
  const router = await startTestRouter(t, { socketDir: dir })
  return { backend, router }
}

function upgradeHeadersSeen (backend: Backend): string[] {
  return (backend.seen.at(-1)?.rawHeaders ?? []).filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())
    .filter((n) => n === 'upgrade' || n === 'http2-settings')
}

t.test('curl --http2 on http:// is served as HTTP/1.1 with the Upgrade dropped', async (t) => {
  const { backend, router } = await setUp(t)
  const { stdout } = await run('curl', ['-s', '--http2', '-w', '\n%{http_version} %{http_code}', `${router.url}/svc/ui/x?q=1`])
  const [body, status] = stdout.split('\n')
  t.equal(status, '1.1 200', 'no switch: the answer is HTTP/1.1 200')
  t.match(JSON.parse(body as string), { method: 'GET', url: '/x?q=1' })
  t.same(upgradeHeadersSeen(backend), [], 'Upgrade and HTTP2-Settings stay hop-by-hop')
  await router.waitForLog((l) => l.msg === 'request' && l.url === '/svc/ui/x?q=1' && l.status === 200)
})

t.test('curl --http2 POST with a body reaches the backend whole, and the connection serves the next request', async (t) => {
  const { backend, router } = await setUp(t)
  const { stdout } = await run('curl', ['-s', '--http2', '-d', 'hello=world', `${router.url}/svc/ui/p`, `${router.url}/svc/ui/q`])
  const answers = stdout.replace(/\}\{/g, '}\n{').split('\n').map((l) => JSON.parse(l) as { method: string, url: string, body: string })
  t.match(answers, [{ method: 'POST', url: '/p', body: 'hello=world' }, { method: 'POST', url: '/q', body: 'hello=world' }])
  t.equal(backend.seen.length, 2)
})

t.test('a node:http request with Upgrade: h2c gets an ordinary 200', async (t) => {
  const { backend, router } = await setUp(t)
  const result = await withTimeout(new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = request(`${router.url}/svc/ui/plain`, { agent: false, headers: H2C }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  }), 10_000, 'the answer')
  t.equal(result.status, 200)
  t.match(JSON.parse(result.body), { method: 'GET', url: '/plain' })
  t.same(upgradeHeadersSeen(backend), [])
})

t.test('a chunked POST with Upgrade: h2c, its body split across writes, reaches the backend whole', async (t) => {
  const { backend, router } = await setUp(t)
  const socket = connect(router.port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  socket.on('error', () => {})
  let got = ''
  const answered = new Promise<void>((resolve) => {
    socket.on('data', (c: Buffer) => { got += c.toString('latin1'); if (got.includes('first,second')) resolve() })
  })
  socket.write(`POST /svc/ui/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n${H2C_LINES}\r\n6\r\nfirst,\r\n`)
  // The rest of the body arrives only once the first part has reached the backend.
  await withTimeout(new Promise<void>((resolve) => {
    const check = (): void => { if (backend.seen.length > 0) resolve(); else backend.server.once('request', () => setImmediate(check)) }
    check()
  }), 5000, 'the request at the backend')
  socket.write('6\r\nsecond\r\n0\r\n\r\n')
  await withTimeout(answered, 5000, 'the answer')
  t.match(got, /^HTTP\/1\.1 200 /)
  t.match(got, /"method":"POST","url":"\/upload"/)
  t.same(upgradeHeadersSeen(backend), [])
})

t.test('an h2c upgrade pipelined behind a request in flight is answered after it, in order', async (t) => {
  const { backend, router } = await setUp(t)
  const raw = await rawExchange(router.port,
    'GET /svc/ui/first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' +
    `GET /svc/ui/second HTTP/1.1\r\nHost: 127.0.0.1\r\n${H2C_LINES.replace('HTTP2-Settings\r\n', 'HTTP2-Settings, close\r\n')}\r\n`, 5000)
  const statuses = [...raw.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1])
  t.same(statuses, ['200', '200'])
  t.ok(raw.indexOf('"url":"/first"') < raw.indexOf('"url":"/second"'), 'in request order')
  t.same(backend.seen.map((s) => s.url), ['/first', '/second'])
})

t.test('h2c is never tunnelled, even to a backend that would accept it', async (t) => {
  const dir = makeTempDir(t)
  // A ws backend's plain-HTTP handler answers 200; an Upgrade reaching it would go to its upgrade handler.
  const ws = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const raw = await rawExchange(port, `GET /svc/ws/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${H2C_LINES.replace('HTTP2-Settings\r\n', 'HTTP2-Settings, close\r\n')}\r\n`, 5000)
  t.match(raw, /^HTTP\/1\.1 200 /)
  t.notMatch(raw, /^HTTP\/1\.1 101/m)
  t.match(raw, /plain http/)
  t.equal(ws.seen.length, 0, 'no upgrade reached the backend')
})

t.test('an HTTP/1.0 request with Upgrade: h2c is served as HTTP/1.0', async (t) => {
  const { backend, router } = await setUp(t)
  const raw = await rawExchange(router.port, `GET /svc/ui/old HTTP/1.0\r\nHost: 127.0.0.1\r\n${H2C_LINES}\r\n`, 5000)
  t.match(raw, /^HTTP\/1\.[01] 200 /)
  t.equal(backend.seen[0]?.url, '/old')
})
