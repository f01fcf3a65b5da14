import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'

interface Echo { method: string, url: string, headers: Record<string, string> }

t.test('nested layout strips the prefix and keeps the query', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  const res = await httpGet(`${url}/svc/ui/a/b?x=1&y=%20z`)
  t.equal(res.status, 200)
  const echo = JSON.parse(res.text) as Echo
  t.equal(echo.url, '/a/b?x=1&y=%20z')
  t.equal(backend.seen.length, 1)
  t.equal(echo.headers['x-forwarded-prefix'], '/svc/ui')
})

t.test('flat layout routes DIR/<service>.sock at /<service>/', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'flat.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  const echo = JSON.parse((await httpGet(`${url}/flat/deep/path?q`)).text) as Echo
  t.equal(echo.url, '/deep/path?q')
  t.equal(echo.headers['x-forwarded-prefix'], '/flat')
})

t.test('a non-GET to a prefix without a trailing slash is forwarded as /', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  // GET and HEAD get a 301 to the slashed prefix instead (test/trailing-slash.test.ts).
  t.equal((JSON.parse((await httpGet(`${url}/svc/ui`, { method: 'POST' })).text) as Echo).url, '/')
  t.equal((JSON.parse((await httpGet(`${url}/svc/ui?k=v`, { method: 'POST' })).text) as Echo).url, '/?k=v')
  t.equal((JSON.parse((await httpGet(`${url}/svc/ui/`)).text) as Echo).url, '/')
})

t.test('percent-encoding passes through byte for byte', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  const echo = JSON.parse((await httpGet(`${url}/svc/ui/a%2Fb/c%20d/%E2%9C%93/%7e?p=%2F%2f&q=a+b`)).text) as Echo
  t.equal(echo.url, '/a%2Fb/c%20d/%E2%9C%93/%7e?p=%2F%2f&q=a+b')
})

t.test('two sockets of one service reach their own backends', async (t) => {
  const dir = makeTempDir(t)
  const ui = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const rpc = await startBackend(t, join(dir, 'svc', 'rpc.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  await httpGet(`${url}/svc/ui/one`)
  await httpGet(`${url}/svc/rpc/two`)
  await httpGet(`${url}/svc/rpc/three`)
  t.same(ui.seen.map((r) => r.url), ['/one'])
  t.same(rpc.seen.map((r) => r.url), ['/two', '/three'])
})

t.test('the longest prefix wins when flat and nested overlap', async (t) => {
  const dir = makeTempDir(t)
  const flat = await startBackend(t, join(dir, 'svc.sock'))
  const nested = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  await httpGet(`${url}/svc/ui/x`)
  await httpGet(`${url}/svc/other/y`)
  await httpGet(`${url}/svc/uix`)
  t.same(nested.seen.map((r) => r.url), ['/x'])
  t.same(flat.seen.map((r) => r.url), ['/other/y', '/uix'])
})

t.test('every method reaches the backend, WebDAV ones included', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'MKCOL']) {
    const res = await httpGet(`${url}/svc/ui/m`, { method })
    t.equal(res.status, 200, method)
  }
  const head = await httpGet(`${url}/svc/ui/m`, { method: 'HEAD' })
  t.equal(head.status, 200)
  t.equal(head.body.length, 0)
  t.same(backend.seen.map((r) => r.method), ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'MKCOL', 'HEAD'])
})

t.test('unknown service: 404 JSON listing the known prefixes, or HTML for browsers', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  const json = await httpGet(`${url}/nope/x`)
  t.equal(json.status, 404)
  t.match(json.headers['content-type'], /application\/json/)
  t.same(JSON.parse(json.text), { error: 'no_route', message: 'No service is routed at this path.', routes: ['/svc/ui/'] })
  const html = await httpGet(`${url}/svc/nope`, { headers: { accept: 'text/html,application/xhtml+xml' } })
  t.equal(html.status, 404)
  t.match(html.headers['content-type'], /text\/html/)
  t.match(html.text, /<a href="\/svc\/ui\/">\/svc\/ui\/<\/a>/)
  t.equal(backend.seen.length, 0)
})

t.test('the router answers its own endpoints under /_sockrouter/', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  await startBackend(t, join(dir, '_sockrouter', 'health.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  const health = await httpGet(`${url}/_sockrouter/health`)
  t.equal(health.status, 200)
  const body = JSON.parse(health.text) as { status: string, uptimeSeconds: number, routes: number, skipped: unknown }
  t.equal(body.routes, 1, 'a service cannot claim _sockrouter')
  // `sockrouter check` fails on the same socket, so health is degraded and names it (issue #12).
  t.equal(body.status, 'degraded')
  t.same(body.skipped, [{ what: '_sockrouter/health.sock', reason: 'the name _sockrouter is reserved for the router' }])
  t.type(body.uptimeSeconds, 'number')
  const routes = JSON.parse((await httpGet(`${url}/_sockrouter/routes`)).text) as { routes: { prefix: string, source: string, target: { socket: string } }[] }
  t.same(routes.routes.map((r) => [r.prefix, r.source, r.target.socket]), [['/svc/ui/', 'discovered', 'svc/ui.sock']])
  t.equal((await httpGet(`${url}/_sockrouter/other`)).status, 404)
})

t.test('the access log has service, socket name, status, ms and bytes', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url, logs, waitForLog } = await startTestRouter(t, { socketDir: dir })
  const res = await httpGet(`${url}/svc/ui/logged`)
  const line = await waitForLog((l) => l.msg === 'request')
  t.equal(logs.filter((l) => l.msg === 'request').length, 1, 'one access line')
  t.match(line, { service: 'svc', socket: 'svc/ui.sock', status: 200, method: 'GET', url: '/svc/ui/logged' })
  t.type(line?.ms, 'number')
  t.ok((line.bytes as number) > res.body.length, 'bytes counts head and body')
  t.notMatch(JSON.stringify(line), dir, 'no absolute socket path in the access line')

  const posted = await httpGet(`${url}/svc/ui/upload`, { method: 'POST', body: 'x'.repeat(100_000) })
  const postLine = await waitForLog((l) => l.msg === 'request' && l.url === '/svc/ui/upload')
  t.ok((postLine.bytes as number) > posted.body.length, 'a request with a body logs its response bytes too')
})

t.test('a flat route forwards encoded characters after its prefix untouched', async (t) => {
  const dir = makeTempDir(t)
  const flat = await startBackend(t, join(dir, 'flat.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  t.equal((await httpGet(`${url}/flat/a%2Fb/c%5C%00`)).status, 200)
  t.same(flat.seen.map((r) => r.url), ['/a%2Fb/c%5C%00'])
})
