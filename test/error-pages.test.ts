import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet, type HttpResult } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import { writeRouteFile } from './helpers/services-dir.js'
import { makeTempDir } from './helpers/temp-dir.js'

// Issue #12: browsers get an HTML page for 404, 502, 503 and 504, each linking to the dashboard; other clients keep JSON.

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }

function checkPage (t: Test, res: HttpResult, status: number, headline: RegExp): void {
  t.equal(res.status, status)
  t.match(res.headers['content-type'], /^text\/html; charset=utf-8/)
  t.match(res.headers['content-security-policy'], /default-src 'none'/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(res.text, /^<!doctype html>/)
  t.match(res.text, headline)
  t.match(res.text, /<a href="\/_sockrouter\/">the sockrouter dashboard<\/a>/, 'links to the dashboard')
  t.notMatch(res.text, /<script/i)
}

t.test('a browser gets an HTML 502 linking to the dashboard; curl keeps the JSON', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'crash', 'ui.sock'), (req) => { req.socket.destroy() })
  const { url } = await startTestRouter(t, { socketDir: dir })
  const page = await httpGet(`${url}/crash/ui/`, { headers: BROWSER })
  checkPage(t, page, 502, /The service did not answer/)
  t.match(page.text, /Service: <code>crash<\/code>/)
  t.notOk(page.text.includes(dir), 'no socket path on the page')
  const json = await httpGet(`${url}/crash/ui/`)
  t.equal(json.status, 502)
  t.same(JSON.parse(json.text), { error: 'bad_gateway', message: 'The service refused the connection or went away.', service: 'crash' })
})

t.test('a browser gets an HTML 504 linking to the dashboard', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'slow', 'ui.sock'), () => {})
  const { url } = await startTestRouter(t, { socketDir: dir, upstreamTimeoutMs: 200 })
  checkPage(t, await httpGet(`${url}/slow/ui/`, { headers: BROWSER }), 504, /The service took too long/)
})

t.test('a browser gets an HTML 503 for a known route whose socket is missing, with its Retry-After', async (t) => {
  const root = makeTempDir(t)
  writeRouteFile(join(root, 'd'), 'routes.yaml', 'routes:\n  - prefix: /later\n    socket: later/api.sock\n')
  const { url } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir: join(root, 'd') })
  const page = await httpGet(`${url}/later/`, { headers: BROWSER })
  checkPage(t, page, 503, /The service is not running/)
  t.equal(page.headers['retry-after'], '1')
  t.match(page.text, /Try again in 1 s\./)
  const json = await httpGet(`${url}/later/`, { headers: { accept: 'application/json' } })
  t.equal(json.status, 503)
  t.match(json.headers['content-type'], /^application\/json/)
})

t.test('a browser gets an HTML 404 listing the routes and linking to the dashboard', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  const page = await httpGet(`${url}/nope/%3Cscript%3E`, { headers: BROWSER })
  checkPage(t, page, 404, /No service is routed here/)
  t.match(page.text, /<a href="\/svc\/ui\/">\/svc\/ui\/<\/a>/)
})

t.test('other errors stay JSON even for a browser', async (t) => {
  const dir = makeTempDir(t)
  const { url } = await startTestRouter(t, { socketDir: dir })
  const res = await httpGet(`${url}/svc/ui/`, { method: 'GET', headers: { ...BROWSER, expect: 'something-else' } })
  t.equal(res.status, 417)
  t.match(res.headers['content-type'], /^application\/json/)
})
