import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { nextMessage, openClient, startWsBackend } from './helpers/ws-backend.js'
import { RecentErrors, errorPath } from '../src/metrics/recent-errors.js'
import { RouteWindow } from '../src/metrics/route-window.js'

t.test('the window\'s rate covers the last 10 s, and older seconds drop out', async (t) => {
  const window = new RouteWindow(0)
  // 5 requests in each of 20 seconds.
  for (let second = 0; second < 20; second++) {
    for (let i = 0; i < 5; i++) window.record(second * 1000 + i * 100, 2, false)
  }
  const at = window.summarize(19_999)
  t.equal(at.requests, 50, 'seconds 10..19 only')
  t.equal(at.spanMs, 9_999, 'from the start of second 10 to now')
  t.equal(window.summarize(24_999).requests, 25, 'five seconds later half of it is gone')
  t.equal(window.summarize(40_000).requests, 0)
  t.equal(window.summarize(40_000).p50Ms, null, 'no percentile without requests')
})

t.test('a new route\'s rate is over the time since it started, not diluted over 10 s', async (t) => {
  const window = new RouteWindow(100_000)
  for (let i = 0; i < 40; i++) window.record(100_000 + i * 50, 1, false)
  const summary = window.summarize(102_000)
  t.equal(summary.requests, 40)
  t.equal(summary.spanMs, 2_000)
})

t.test('percentiles come from the window\'s log-scale buckets, within 5%', async (t) => {
  const window = new RouteWindow(0)
  // 1..1000 ms, once each: p50 = 500, p99 = 990.
  for (let ms = 1; ms <= 1000; ms++) window.record(500, ms, ms % 100 === 0)
  const summary = window.summarize(900)
  t.equal(summary.errors, 10)
  t.ok(Math.abs((summary.p50Ms as number) - 500) / 500 < 0.05, `p50 ${summary.p50Ms} ≈ 500`)
  t.ok(Math.abs((summary.p99Ms as number) - 990) / 990 < 0.05, `p99 ${summary.p99Ms} ≈ 990`)
})

t.test('the recent errors keep the last 50, newest first, with the path cut and no query', async (t) => {
  const errors = new RecentErrors()
  for (let i = 0; i < 60; i++) errors.add({ at: new Date(i).toISOString(), route: '/a/', method: 'GET', path: `/a/${i}`, status: 502, code: 'bad_gateway' })
  const list = errors.list()
  t.equal(list.length, 50)
  t.equal(list[0]?.path, '/a/59')
  t.equal(list[49]?.path, '/a/10')
  t.equal(errorPath('/a/b?token=secret'), '/a/b')
  t.equal(errorPath('/' + 'x'.repeat(500)).length, 200)
  t.same(new RecentErrors().list(), [])
})

t.test('a route\'s activity on real traffic: rate, error rate, percentiles, bytes both ways, tunnels', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'), (req, res) => {
    req.resume()
    req.on('end', () => {
      res.statusCode = req.url === '/fail' ? 500 : 200
      res.end('x'.repeat(1000))
    })
  })
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { url, port, router } = await startTestRouter(t, { socketDir: dir, logLevel: 'warn' })
  const { activity } = router.metrics

  t.same(activity.sample('/svc/ui/'), { requestsPerSecond: 0, errorRate: 0, p50Ms: null, p99Ms: null, tunnelsOpen: 0, bytesIn: 0, bytesOut: 0 }, 'nothing yet')
  for (let i = 0; i < 18; i++) t.equal((await httpGet(`${url}/svc/ui/page-${i}`)).status, 200)
  for (let i = 0; i < 2; i++) t.equal((await httpGet(`${url}/svc/ui/fail`)).status, 500)
  t.equal((await httpGet(`${url}/svc/ui/upload`, { method: 'POST', body: 'y'.repeat(4096) })).status, 200)

  const http = activity.sample('/svc/ui/')
  // 21 requests within at most 10 s and over at least the 1 s floor.
  t.ok(http.requestsPerSecond >= 2.1 && http.requestsPerSecond <= 21, `rate ${http.requestsPerSecond}/s`)
  t.equal(http.errorRate, Math.round(2 / 21 * 10_000) / 10_000, '2 of 21 answers were 5xx')
  t.ok(http.p50Ms !== null && http.p50Ms > 0, `p50 ${http.p50Ms} ms`)
  t.ok(http.p99Ms !== null && http.p50Ms !== null && http.p99Ms >= http.p50Ms, `p99 ${http.p99Ms} ms`)
  t.equal(http.bytesIn, 4096, 'the request body')
  t.ok(http.bytesOut > 21 * 1000, `bytes out ${http.bytesOut}: the bodies and their heads`)
  t.match(activity.recentErrors()[0], { route: '/svc/ui/', path: '/svc/ui/fail', status: 500, code: 'backend_5xx' })

  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  t.teardown(() => ws.terminate())
  ws.send('z'.repeat(50))
  await nextMessage(ws)
  const tunnel = activity.sample('/svc/ws/')
  t.equal(tunnel.tunnelsOpen, 1)
  t.equal(tunnel.bytesIn, 56, 'the masked 50-byte frame, read from the open tunnel')
  t.equal(tunnel.bytesOut, 52)
})
