import t from 'tap'
import type { LiveRoute, LiveState } from '../../src/admin/live-state.js'
import { EventStreamParser } from '../../src/cli/live-feed-client.js'
import { renderTop } from '../../src/cli/render-top.js'

function route (prefix: string, extra: Partial<LiveRoute> = {}): LiveRoute {
  return {
    prefix, service: prefix.split('/')[1] ?? '', source: 'discovered', file: null, status: 'up', target: `${prefix.slice(1, -1)}.sock`, websocket: true,
    health: 'healthy', healthSince: null, healthCause: null, requestsPerSecond: 12.5, errorRate: 0.25, p50Ms: 3.2, p99Ms: 120, tunnelsOpen: 2, bytesIn: 1200, bytesOut: 3_400_000,
    ...extra
  }
}

function state (routes: LiveRoute[], errors = 0): LiveState {
  return {
    at: new Date().toISOString(),
    router: { status: 'ok', uptimeSeconds: 3725, version: '0.1.0', configErrors: [], rescanError: null },
    health: { healthy: routes.length, unhealthy: 0, unreachable: 0, unknown: 0 },
    routes,
    errors: Array.from({ length: errors }, (_, i) => ({ at: new Date().toISOString(), route: '/a/b/', method: 'GET', path: `/a/b/${i}`, status: 502, code: 'upstream_unreachable' }))
  }
}

const visible = (line: string): string => line.replace(/\u001b\[[0-9;]*m/g, '')

t.test('a wide terminal gets every column, a narrow one drops the least needed first', async (t) => {
  const wide = renderTop(state([route('/chat/ui/')]), { width: 120, height: 30, color: false, notice: null })
  t.match(wide.join('\n'), /ROUTE +HEALTH +REQ\/S +ERR% +P50 +P99 +TUNNELS +IN +OUT +TARGET/)
  t.match(wide.join('\n'), /\/chat\/ui\/ +healthy +13 +25\.0% +3\.2ms +120ms +2 +1\.2 kB +3\.4 MB +chat\/ui\.sock/)
  const narrow = renderTop(state([route('/chat/ui/')]), { width: 40, height: 30, color: false, notice: null })
  t.match(narrow.join('\n'), /ROUTE +HEALTH +REQ\/S +ERR%/)
  t.notMatch(narrow.join('\n'), /TARGET|IN +OUT/)
})

t.test('no line is wider than the terminal, colours not counted', async (t) => {
  for (const width of [20, 50, 80, 200]) {
    const lines = renderTop(state([route('/a-very-long-service-name/with-a-long-instance/')], 3), { width, height: 30, color: true, notice: 'lost the feed from 127.0.0.1:9988 (connection refused); retrying every 1 s' })
    for (const line of lines) t.ok(visible(line).length <= width, `${width} columns: ${JSON.stringify(visible(line))}`)
  }
})

t.test('many routes and errors fit the terminal height', async (t) => {
  const routes = Array.from({ length: 50 }, (_, i) => route(`/svc${i}/ui/`))
  const lines = renderTop(state(routes, 20), { width: 100, height: 24, color: false, notice: null })
  t.equal(lines.length, 24)
  t.match(lines.join('\n'), /… \d+ more routes/)
  t.match(lines.join('\n'), /LAST ERRORS\n\d\d:\d\d:\d\d {2}502 {2}GET \/a\/b\/0 {2}upstream_unreachable/)
  t.match(lines[lines.length - 1], /q quit/)
})

t.test('a down route, health states and a degraded router are spelled out', async (t) => {
  const s = state([route('/a/b/', { status: 'down', health: 'unreachable' }), route('/c/d/', { health: 'unhealthy' })])
  const lines = renderTop({ ...s, router: { ...s.router, status: 'degraded', configErrors: ['services.d/x.yaml:3: target: required'] } }, { width: 120, height: 30, color: false, notice: null })
  const text = lines.join('\n')
  t.match(text, /degraded/)
  t.match(text, /services\.d\/x\.yaml:3: target: required/)
  t.match(text, /\/a\/b\/ +down/)
  t.match(text, /\/c\/d\/ +unhealthy/)
})

t.test('the event-stream parser joins data lines, skips comments and survives split chunks', async (t) => {
  const events: Array<[string, string]> = []
  const parser = new EventStreamParser((event, data) => events.push([event, data]))
  parser.push(': ping\n\nevent: state\ndata: {"a":')
  parser.push('1}\n\r\ndata: one\ndata: two\n\n')
  t.same(events, [['state', '{"a":1}'], ['message', 'one\ntwo']])
})
