import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startBackend, type Backend, type Handler } from './helpers/backend.js'
import { waitForHealth, type RouteHealthView } from './helpers/health.js'
import { httpGet } from './helpers/http-client.js'
import { hasRoute, startTestRouter, waitForTable } from './helpers/router.js'
import { writeRouteFile } from './helpers/services-dir.js'
import { makeStaleSocket } from './helpers/stale-socket.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { DEADLINE_MS, withTimeout } from './helpers/wait-for.js'

/**
 * Issue #12, active health: every route is probed with GET <path> straight
 * on its socket, and the verdict shows in /_sockrouter/routes and the counts
 * of /_sockrouter/health. Short intervals via the same option `--health-interval`
 * sets; every wait is for a 'change' event with a deadline.
 */

async function routesView (url: string): Promise<Map<string, RouteHealthView>> {
  const body = JSON.parse((await httpGet(`${url}/_sockrouter/routes`)).text) as { routes: RouteHealthView[] }
  return new Map(body.routes.map((r) => [r.prefix, r]))
}

/** Answers `/health` with whatever `status.code` says now, everything else with 200. */
function switchable (status: { code: number }): Handler {
  return (req, res) => {
    req.resume()
    res.writeHead(req.url === '/health' ? status.code : 200, { 'content-type': 'text/plain' })
    res.end('x')
  }
}

/** Resolves once the backend has seen `count` requests for `path`: on its `request` events, within the deadline. */
async function waitForProbes (backend: Backend, path: string, count: number, what: string): Promise<void> {
  const enough = (): boolean => backend.seen.filter((s) => s.url === path).length >= count
  if (enough()) return
  let onRequest = (): void => {}
  const reached = new Promise<void>((resolve) => {
    onRequest = () => { if (enough()) resolve() }
    backend.server.on('request', onRequest)
  })
  try {
    await withTimeout(reached, DEADLINE_MS, what)
  } finally {
    backend.server.off('request', onRequest)
  }
}

t.test('a backend that answers 503 on /health becomes unhealthy, and healthy again once it answers 200', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const status = { code: 503 }
  const backend = await startBackend(t, join(socketDir, 'svc', 'ui.sock'), switchable(status))
  const { router, url } = await startTestRouter(t, { socketDir, healthIntervalMs: 100 })
  await waitForTable(router, hasRoute('/svc/ui/'), DEADLINE_MS, '/svc/ui/')

  const sick = await waitForHealth(router, '/svc/ui/', 'unhealthy')
  t.equal(sick.cause, 'GET /health answered 503')
  t.ok(backend.seen.some((s) => s.method === 'GET' && s.url === '/health'), 'the probe went straight to the socket: GET /health, not the prefixed path')
  t.notOk(backend.seen.some((s) => s.headers['x-forwarded-for'] !== undefined), 'and not through the router')
  const view = (await routesView(url)).get('/svc/ui/')
  t.match(view, { health: 'unhealthy', healthCause: 'GET /health answered 503' })
  t.equal(new Date(view?.healthSince ?? '').getTime(), sick.since, 'healthSince is the time of the change, in ISO 8601')
  const health = JSON.parse((await httpGet(`${url}/_sockrouter/health`)).text) as { status: string, health: Record<string, number> }
  t.same(health.health, { healthy: 0, unhealthy: 1, unreachable: 0, unknown: 0 })
  t.equal(health.status, 'ok', 'a route\'s health is not the router\'s status')
  t.equal((await httpGet(`${url}/svc/ui/page`)).status, 200, 'routing does not change with health')
  t.equal(router.health.get('/svc/ui/').state, 'unhealthy', 'a real request answered does not overrule the probe\'s unhealthy')

  status.code = 200
  const well = await waitForHealth(router, '/svc/ui/', 'healthy')
  t.equal(well.cause, 'GET /health answered 200')
  t.match((await routesView(url)).get('/svc/ui/'), { health: 'healthy' })
})

t.test('a backend without a health endpoint (404 on /health) counts as healthy; 405 and 501 too, 500 does not', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const codes = { a: 404, b: 405, c: 501, d: 500, e: 302 }
  for (const [name, code] of Object.entries(codes)) await startBackend(t, join(socketDir, 'svc', `${name}.sock`), switchable({ code }))
  const { router } = await startTestRouter(t, { socketDir, healthIntervalMs: 100 })
  await waitForTable(router, (tb) => tb.routes.length === 5, DEADLINE_MS, 'five routes')
  for (const [name, code] of Object.entries(codes)) {
    const expected = code === 500 ? 'unhealthy' : 'healthy'
    const record = await waitForHealth(router, `/svc/${name}/`, expected)
    t.equal(record.cause, `GET /health answered ${code}`, `${code} is ${expected}`)
  }
})

t.test('a probe with no answer within the timeout makes the route unhealthy', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  await startBackend(t, join(socketDir, 'slow', 'ui.sock'), (req) => { req.resume() })
  const { router } = await startTestRouter(t, { socketDir, healthIntervalMs: 100, healthTimeoutMs: 150 })
  const record = await waitForHealth(router, '/slow/ui/', 'unhealthy')
  t.equal(record.cause, 'timeout after 150 ms')
})

t.test('a stale socket becomes unreachable with probes alone; a new process on it is probed at once and healthy', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const socketPath = join(socketDir, 'dead', 'ui.sock')
  mkdirSync(join(socketDir, 'dead'), { recursive: true })
  await makeStaleSocket(socketPath)
  const { router, url, logs } = await startTestRouter(t, { socketDir, healthIntervalMs: 100 })
  const record = await waitForHealth(router, '/dead/ui/', 'unreachable')
  t.equal(record.cause, 'connect ECONNREFUSED')
  t.notMatch(JSON.stringify(await routesView(url)), /"healthCause":"[^"]*\//, 'no cause names a path')
  t.ok(logs.some((l) => l.msg === 'route /dead/ui/ is unreachable: connect ECONNREFUSED' && l.level === 40), 'the change is logged once, at warn')

  // A new process re-creates the socket: a new identity, so the route starts again at unknown and is probed at once.
  const before = router.store.current.byKey.get('dead/ui')?.upstream.origin
  rmSync(socketPath)
  await startBackend(t, socketPath)
  await waitForTable(router, (tb) => { const o = tb.byKey.get('dead/ui')?.upstream.origin; return o !== undefined && o !== before }, DEADLINE_MS, 'the new socket identity')
  const back = await waitForHealth(router, '/dead/ui/', 'healthy')
  t.equal(back.cause, 'GET /health answered 200')
})

t.test('per-route healthCheck: its own path and interval, false, and a route probed while --health-interval is 0', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'services.d')
  const own = await startBackend(t, join(root, 'b', 'own.sock'), switchable({ code: 503 }))
  const off = await startBackend(t, join(root, 'b', 'off.sock'))
  const plain = await startBackend(t, join(socketDir, 'plain', 'ui.sock'))
  writeRouteFile(servicesDir, 'a.yaml', [
    'routes:',
    '  - prefix: /own',
    `    socket: ${own.socketPath}`,
    '    healthCheck: { path: /ready, interval: 50ms, timeout: 1s }',
    '  - prefix: /off',
    `    socket: ${off.socketPath}`,
    '    healthCheck: false',
    ''
  ].join('\n'))
  // Probing off router-wide: only the route with its own interval is probed.
  const { router, url } = await startTestRouter(t, { socketDir, servicesDir, healthIntervalMs: 0 })
  await waitForTable(router, (tb) => tb.routes.length === 3, DEADLINE_MS, 'three routes')

  const record = await waitForHealth(router, '/own/', 'healthy')
  t.equal(record.cause, 'GET /ready answered 200', 'its own path: /ready answers 200 though /health would be 503')
  await waitForProbes(own, '/ready', 4, 'four probes of /own/ at its own 50 ms interval')
  t.same(off.seen, [], 'healthCheck: false is never probed')
  t.same(plain.seen, [], '--health-interval 0: a route without its own interval is never probed')
  const view = await routesView(url)
  t.match(view.get('/off/'), { health: 'unknown', healthCause: null })
  t.match(view.get('/plain/ui/'), { health: 'unknown', healthCause: null })
  t.ok(view.get('/plain/ui/')?.healthSince !== null, 'unknown since the route was first seen')

  // Passive health still applies where probing is off.
  t.equal((await httpGet(`${url}/off/`)).status, 200)
  t.equal(router.health.get('/off/').state, 'healthy', 'an answered request makes an unprobed route healthy')
  t.equal((await httpGet(`${url}/plain/ui/`)).status, 200)
  t.equal(router.health.get('/plain/ui/').state, 'healthy')
})

t.test('a route removed from the table drops its health, and the counts follow the table', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const a = await startBackend(t, join(socketDir, 'a', 'x.sock'))
  await startBackend(t, join(socketDir, 'b', 'x.sock'))
  const { router, url } = await startTestRouter(t, { socketDir, healthIntervalMs: 100 })
  await waitForHealth(router, '/a/x/', 'healthy')
  await waitForHealth(router, '/b/x/', 'healthy')
  t.same(router.health.counts(), { healthy: 2, unhealthy: 0, unreachable: 0, unknown: 0 })
  await a.close()
  await waitForTable(router, (tb) => !tb.byKey.has('a/x'), DEADLINE_MS, '/a/x/ removed')
  t.same(router.health.counts(), { healthy: 1, unhealthy: 0, unreachable: 0, unknown: 0 }, 'the removed route is not counted')
  t.match(router.health.get('/a/x/'), { state: 'unknown', cause: null }, 'its record is gone')
  const health = JSON.parse((await httpGet(`${url}/_sockrouter/health`)).text) as { health: Record<string, number> }
  t.same(health.health, { healthy: 1, unhealthy: 0, unreachable: 0, unknown: 0 })
})
