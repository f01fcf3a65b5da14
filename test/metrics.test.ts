import { once } from 'node:events'
import { Agent } from 'node:http'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { scrapeMetrics } from './helpers/metrics-scrape.js'
import { hasRoute, startTestRouter, waitForTable } from './helpers/router.js'
import { makeStaleSocket } from './helpers/stale-socket.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { RouterMetrics } from '../src/metrics/router-metrics.js'
import { DEADLINE_MS, withTimeout } from './helpers/wait-for.js'
import { nextMessage, openClient, startWsBackend } from './helpers/ws-backend.js'

/** `count` GETs over a few keep-alive connections, `concurrency` at a time. */
async function getMany (urls: readonly string[], concurrency = 8): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const statuses: number[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < urls.length) {
      const url = urls[next++] as string
      statuses.push((await new Promise<number>((resolve, reject) => {
        fetchWith(agent, url).then(resolve, reject)
      })))
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  agent.destroy()
  return statuses
}

async function fetchWith (agent: Agent, url: string): Promise<number> {
  const { request } = await import('node:http')
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** The status a refused WebSocket handshake was answered with. */
async function refusedStatus (url: string): Promise<number> {
  return openClient(url).then((ws) => { ws.terminate(); return 101 }, (err: { status?: number }) => err.status ?? 0)
}

t.test('GET /_sockrouter/metrics answers in the Prometheus text format, with the default process metrics', async (t) => {
  const dir = makeTempDir(t)
  const { url } = await startTestRouter(t, { socketDir: dir })
  const scrape = await scrapeMetrics(url)
  t.equal(scrape.status, 200)
  t.equal(scrape.contentType, 'text/plain; version=0.0.4; charset=utf-8')
  for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
    t.match(scrape.text, new RegExp(`^${name} `, 'm'), `${name} is exported`)
  }
  for (const name of ['sockrouter_requests_total', 'sockrouter_request_duration_seconds', 'sockrouter_upstream_errors_total', 'sockrouter_tunnels_open',
    'sockrouter_tunnels_total', 'sockrouter_tunnel_bytes_total', 'sockrouter_routes', 'sockrouter_route_health', 'sockrouter_config_errors']) {
    t.match(scrape.text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is declared`)
  }
  t.equal(scrape.samples.get('sockrouter_config_errors'), 0)
})

t.test('requests are counted by route prefix and status code, with their duration per route', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  for (const path of ['/svc/ui/', '/svc/ui/a', '/svc/ui/b?q=1']) t.equal((await httpGet(url + path)).status, 200)
  t.equal((await httpGet(url + '/nothing/here')).status, 404)
  t.equal((await httpGet(url + '/_sockrouter/health')).status, 200)

  const { samples } = await scrapeMetrics(url)
  t.equal(samples.get('sockrouter_requests_total{route="/svc/ui/",code="200"}'), 3)
  t.equal(samples.get('sockrouter_requests_total{route="none",code="404"}'), 1, 'an unmatched request counts under route="none"')
  t.equal(samples.get('sockrouter_requests_total{route="_sockrouter",code="200"}'), 1, "the router's own endpoints count under route=\"_sockrouter\"")
  t.equal(samples.get('sockrouter_request_duration_seconds_count{route="/svc/ui/"}'), 3)
  t.equal(samples.get('sockrouter_request_duration_seconds_bucket{route="/svc/ui/",le="+Inf"}'), 3)
  t.ok((samples.get('sockrouter_request_duration_seconds_sum{route="/svc/ui/"}') ?? 0) > 0, 'the duration sum grows')
  t.equal(samples.get('sockrouter_routes{source="discovered",status="up"}'), 1)
  // Probing is off in test routers; the answered requests above made the route healthy (passive health).
  t.equal(samples.get('sockrouter_route_health{route="/svc/ui/",state="healthy"}'), 1, 'an answered request makes the route healthy')
  t.equal(samples.get('sockrouter_route_health{route="/svc/ui/",state="unknown"}'), 0)
})

t.test('a stale socket\'s 502 counts as an upstream error, by route and GatewayError code', async (t) => {
  const dir = makeTempDir(t)
  mkdirSync(join(dir, 'svc'), { recursive: true })
  await makeStaleSocket(join(dir, 'svc', 'dead.sock'))
  const { url, router } = await startTestRouter(t, { socketDir: dir })
  await waitForTable(router, hasRoute('/svc/dead/'), DEADLINE_MS)
  t.equal((await httpGet(url + '/svc/dead/x')).status, 502)

  const { samples } = await scrapeMetrics(url)
  t.equal(samples.get('sockrouter_requests_total{route="/svc/dead/",code="502"}'), 1)
  t.equal(samples.get('sockrouter_upstream_errors_total{route="/svc/dead/",error="bad_gateway"}'), 1)
  const [error] = router.metrics.activity.recentErrors()
  t.match(error, { route: '/svc/dead/', method: 'GET', path: '/svc/dead/x', status: 502, code: 'bad_gateway' })
})

t.test('1,000 distinct paths on one route and 1,000 unmatched paths keep the series count flat', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir, logLevel: 'warn' })
  // One of each first, and one scrape, so every series these requests can make exists.
  await getMany([`${url}/svc/ui/warm`, `${url}/warm/up`])
  await scrapeMetrics(url)
  const before = await scrapeMetrics(url)

  const routed = Array.from({ length: 1000 }, (_, i) => `${url}/svc/ui/item-${i}?id=${i}`)
  const unmatched = Array.from({ length: 1000 }, (_, i) => `${url}/unknown-${i}/x`)
  const statuses = await getMany([...routed, ...unmatched])
  t.equal(statuses.filter((s) => s === 200).length, 1000)
  t.equal(statuses.filter((s) => s === 404).length, 1000)

  const after = await scrapeMetrics(url)
  t.equal(after.ownSeries.length, before.ownSeries.length, `still ${before.ownSeries.length} sockrouter_* series`)
  t.notMatch(after.text, /item-|unknown-/, 'no request path appears in the output')
  t.equal(after.samples.get('sockrouter_requests_total{route="/svc/ui/",code="200"}'), 1001)
  t.equal(after.samples.get('sockrouter_requests_total{route="none",code="404"}'), 1001)
})

t.test('a service that restarts keeps its series: the 502s of its crash still count after its route comes back', async (t) => {
  const dir = makeTempDir(t)
  const socketPath = join(dir, 'svc', 'ui.sock')
  const backend = await startBackend(t, socketPath)
  const { url, router } = await startTestRouter(t, { socketDir: dir })
  await httpGet(url + '/svc/ui/')
  await backend.close()
  rmSync(socketPath, { force: true })
  await waitForTable(router, (table) => !hasRoute('/svc/ui/')(table), DEADLINE_MS, 'the route to go')
  t.equal((await scrapeMetrics(url)).samples.get('sockrouter_requests_total{route="/svc/ui/",code="200"}'), 1, 'kept while the route is gone')
  await startBackend(t, socketPath)
  await waitForTable(router, hasRoute('/svc/ui/'), DEADLINE_MS, 'the route to come back')
  await httpGet(url + '/svc/ui/')
  t.equal((await scrapeMetrics(url)).samples.get('sockrouter_requests_total{route="/svc/ui/",code="200"}'), 2, 'the same series goes on')
})

t.test('a route gone for longer than the grace drops out of the per-route series', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url, router } = await startTestRouter(t, { socketDir: dir, metricsForgetAfterMs: 0 })
  await httpGet(url + '/svc/ui/')
  t.match((await scrapeMetrics(url)).text, /route="\/svc\/ui\/"/)
  await backend.close()
  rmSync(backend.socketPath, { force: true })
  await waitForTable(router, (table) => !hasRoute('/svc/ui/')(table), DEADLINE_MS, 'the route to go')
  t.notMatch((await scrapeMetrics(url)).text, /route="\/svc\/ui\/"/)
})

t.test('tunnels are counted: open goes 1 then 0, every result per route, payload bytes both ways', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  mkdirSync(join(dir, 'svc'), { recursive: true })
  await makeStaleSocket(join(dir, 'svc', 'dead.sock'))
  const test = await startTestRouter(t, { socketDir: dir })
  const { url, port, router } = test
  await waitForTable(router, hasRoute('/svc/dead/'), DEADLINE_MS)

  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/chat`)
  t.teardown(() => ws.terminate())
  ws.send('x'.repeat(100))
  t.equal((await nextMessage(ws)).data.length, 100)
  let { samples } = await scrapeMetrics(url)
  t.equal(samples.get('sockrouter_tunnels_open{route="/svc/ws/"}'), 1)
  t.equal(samples.get('sockrouter_tunnels_total{route="/svc/ws/",result="opened"}'), 1)
  // Read from the open tunnel's meter: a 100-byte masked client frame is 106 bytes, the echo 102.
  t.equal(samples.get('sockrouter_tunnel_bytes_total{route="/svc/ws/",direction="client_to_backend"}'), 106)
  t.equal(samples.get('sockrouter_tunnel_bytes_total{route="/svc/ws/",direction="backend_to_client"}'), 102)

  const closed = test.waitForLog((line) => line.msg === 'websocket tunnel closed')
  ws.close(1000)
  await withTimeout(once(ws, 'close'), DEADLINE_MS, 'client close')
  await closed
  samples = (await scrapeMetrics(url)).samples
  t.equal(samples.get('sockrouter_tunnels_open{route="/svc/ws/"}'), 0)
  t.ok((samples.get('sockrouter_tunnel_bytes_total{route="/svc/ws/",direction="client_to_backend"}') ?? 0) >= 106, 'bytes stay counted after the close')

  t.equal(await refusedStatus(`ws://127.0.0.1:${port}/nowhere/`), 404)
  t.equal(await refusedStatus(`ws://127.0.0.1:${port}/svc/dead/`), 502)
  samples = (await scrapeMetrics(url)).samples
  t.equal(samples.get('sockrouter_tunnels_total{route="none",result="refused"}'), 1)
  t.equal(samples.get('sockrouter_tunnels_total{route="/svc/dead/",result="failed"}'), 1)
  t.equal(samples.get('sockrouter_upstream_errors_total{route="/svc/dead/",error="bad_gateway"}'), 1)
  t.match(router.metrics.activity.recentErrors()[0], { route: '/svc/dead/', path: '/svc/dead/', status: 502, code: 'bad_gateway' })
})

t.test('route health and config errors come from their sources at scrape time', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { router } = await startTestRouter(t, { socketDir: dir })
  let state = 'unreachable'
  const metrics = new RouterMetrics({
    store: router.store,
    tunnels: router.tunnels.stats,
    configErrors: () => ['bad.yaml:1: target: required'],
    health: { get: (prefix) => ({ state: prefix === '/svc/ui/' ? state : 'unknown' }) }
  })
  const registry = await metrics.registry()
  t.equal(await metrics.registry(), registry, 'one registry, created once')
  let text = await registry.metrics()
  t.match(text, /^sockrouter_route_health\{route="\/svc\/ui\/",state="unreachable"\} 1$/m)
  t.match(text, /^sockrouter_route_health\{route="\/svc\/ui\/",state="healthy"\} 0$/m)
  t.match(text, /^sockrouter_config_errors 1$/m)
  state = 'healthy'
  text = await registry.metrics()
  t.match(text, /^sockrouter_route_health\{route="\/svc\/ui\/",state="healthy"\} 1$/m)
  t.match(text, /^sockrouter_route_health\{route="\/svc\/ui\/",state="unreachable"\} 0$/m)
})
