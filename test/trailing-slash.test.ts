import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet, rawExchange, statusOf } from './helpers/http-client.js'
import { startTestRouter, waitForTable } from './helpers/router.js'
import { writeRouteFile } from './helpers/services-dir.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { handshakeHead, startWsBackend } from './helpers/ws-backend.js'

const run = promisify(execFile)
interface Teardown { teardown (fn: () => unknown): void }

async function setUp (t: Teardown) {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const flat = await startBackend(t, join(dir, 'files.sock'))
  const router = await startTestRouter(t, { socketDir: dir })
  return { backend, flat, ...router }
}

t.test('GET of a prefix without its trailing slash answers 301 to the slashed prefix, keeping the query', async (t) => {
  const { backend, flat, url } = await setUp(t)
  const res = await httpGet(`${url}/svc/ui?a=1&b=%2F`)
  t.equal(res.status, 301)
  t.equal(res.headers.location, '/svc/ui/?a=1&b=%2F')
  t.equal((await httpGet(`${url}/svc/ui`)).headers.location, '/svc/ui/')
  t.equal((await httpGet(`${url}/files`)).headers.location, '/files/', 'a flat route too')
  t.equal(backend.seen.length + flat.seen.length, 0, 'answered by the router')
})

t.test('HEAD of a prefix without its trailing slash answers 301 too', async (t) => {
  const { backend, url } = await setUp(t)
  const res = await httpGet(`${url}/svc/ui?x`, { method: 'HEAD' })
  t.equal(res.status, 301)
  t.equal(res.headers.location, '/svc/ui/?x')
  t.equal(backend.seen.length, 0)
})

t.test('a browser-like client following the 301 gets the page at the slashed prefix', async (t) => {
  const { backend, url } = await setUp(t)
  const { stdout } = await run('curl', ['-s', '-L', '-w', '\n%{http_code} %{num_redirects} %{url_effective}', `${url}/svc/ui?q=1`])
  const [body, summary] = stdout.split('\n')
  t.equal(summary, `200 1 ${url}/svc/ui/?q=1`)
  t.equal(JSON.parse(body as string).url, '/?q=1')
  t.equal(backend.seen.length, 1)
})

t.test('other methods on a prefix without its trailing slash still reach the backend as /', async (t) => {
  const { backend, url } = await setUp(t)
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    const res = await httpGet(`${url}/svc/ui?m`, { method, body: method === 'POST' ? 'x' : undefined })
    t.equal(res.status, 200, method)
    t.equal(backend.seen.at(-1)?.url, '/?m', method)
  }
})

t.test('an absolute-form GET of a bare prefix is redirected by its path', async (t) => {
  const { port } = await setUp(t)
  const raw = await rawExchange(port, 'GET http://127.0.0.1/svc/ui?z HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
  t.equal(statusOf(raw), 301)
  t.match(raw, /\r\nlocation: \/svc\/ui\/\?z\r\n/i)
})

t.test('a WebSocket handshake to a bare prefix is not redirected', async (t) => {
  const dir = makeTempDir(t)
  const ws = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const raw = await rawExchange(port, handshakeHead('/svc/ws', port), 500)
  t.equal(statusOf(raw), 101)
  t.equal(ws.seen[0]?.url, '/')
})

t.test('a route whose trailing slash would change the backend path is forwarded as before', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'd')
  writeRouteFile(servicesDir, 'routes.yaml', [
    'routes:',
    `  - prefix: /whole\n    socket: ${root}/a.sock\n    stripPrefix: false`,
    `  - prefix: /v1\n    socket: ${root}/b.sock\n    rewrite: /api`,
    `  - prefix: /slashed\n    socket: ${root}/c.sock\n    rewrite: /api/`
  ].join('\n') + '\n')
  const whole = await startBackend(t, join(root, 'a.sock'))
  const v1 = await startBackend(t, join(root, 'b.sock'))
  const slashed = await startBackend(t, join(root, 'c.sock'))
  const { router, url } = await startTestRouter(t, { socketDir, servicesDir })
  await waitForTable(router, (table) => table.routes.length === 3 && table.routes.every((r) => r.status === 'up'), 5000)
  t.equal((await httpGet(`${url}/whole`)).status, 200, 'stripPrefix: false: the backend sees /whole')
  t.equal(whole.seen[0]?.url, '/whole')
  t.equal((await httpGet(`${url}/v1`)).status, 200, 'rewrite: /api: the backend sees /api, not /api/')
  t.equal(v1.seen[0]?.url, '/api')
  t.equal((await httpGet(`${url}/slashed`)).headers.location, '/slashed/', 'rewrite: /api/ is the same path either way')
  t.equal(slashed.seen.length, 0)
})
