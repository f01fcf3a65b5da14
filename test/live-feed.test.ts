import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import Fastify from 'fastify'
import t from 'tap'
import { registerLiveFeed } from '../src/admin/live-feed.js'
import type { HealthRecord, LiveState, RecentError, RouteActivitySample } from '../src/admin/live-state.js'
import { buildRouteTable, socketsOnly } from '../src/routing/build-route-table.js'
import { RouteStore } from '../src/routing/route-store.js'
import { startBackend } from './helpers/backend.js'
import { openEventStream } from './helpers/event-stream.js'
import { httpGet } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { DEADLINE_MS, withTimeout } from './helpers/wait-for.js'

// Issue #12, item 3: the live feed the dashboard and `sockrouter top` read.

const routeNamed = (prefix: string) => (state: LiveState): boolean => state.routes.some((r) => r.prefix === prefix)

t.test('the event stream sends the current state at once, the same as GET /_sockrouter/state', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  const stream = await openEventStream(t, `${url}/_sockrouter/events`)
  t.equal(stream.response.statusCode, 200)
  t.match(stream.response.headers['content-type'], /^text\/event-stream/)
  t.equal(stream.response.headers['cache-control'], 'no-store')
  const first = await stream.next(() => true, 'anything')
  t.match(first, {
    router: { status: 'ok', configErrors: [], rescanError: null },
    health: { healthy: 0, unhealthy: 0, unreachable: 0, unknown: 1 },
    errors: []
  })
  // Probing is off in test routers, so the route stays unknown since it was first seen.
  t.match(first.routes[0]?.healthSince, /^\d{4}-\d\d-\d\dT/)
  t.same(first.routes.map((r) => ({ ...r, healthSince: null })), [{
    prefix: '/svc/ui/',
    service: 'svc',
    source: 'discovered',
    file: null,
    status: 'up',
    target: 'svc/ui.sock',
    websocket: true,
    health: 'unknown',
    healthSince: null,
    healthCause: null,
    requestsPerSecond: 0,
    errorRate: 0,
    p50Ms: null,
    p99Ms: null,
    tunnelsOpen: 0,
    bytesIn: 0,
    bytesOut: 0
  }])
  t.notOk(JSON.stringify(first).includes(dir), 'no absolute socket path in the feed')

  const one = await httpGet(`${url}/_sockrouter/state`)
  t.equal(one.status, 200)
  t.match(one.headers['content-type'], /^application\/json/)
  const state = JSON.parse(one.text) as LiveState
  t.same(state.routes, first.routes)
  t.equal(typeof state.router.version, 'string')
  t.ok(Date.parse(state.at) >= Date.parse(first.at))

  const head = await httpGet(`${url}/_sockrouter/events`, { method: 'HEAD' })
  t.equal(head.status, 200, 'a HEAD gets the head and an end, not an endless stream')
  t.match(head.headers['content-type'], /^text\/event-stream/)
})

t.test('the event stream keeps sending the state without any change', async (t) => {
  const dir = makeTempDir(t)
  const { url } = await startTestRouter(t, { socketDir: dir })
  const stream = await openEventStream(t, `${url}/_sockrouter/events`)
  await stream.next(() => true, 'a first state')
  const second = await stream.next(() => true, 'a second state', 1)
  t.same(second.routes, [])
})

t.test('a socket that appears in the watched dir is in the next state, and one removed leaves it', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  const stream = await openEventStream(t, `${url}/_sockrouter/events`)
  await stream.next(routeNamed('/svc/ui/'), '/svc/ui/')

  const added = await startBackend(t, join(dir, 'svc', 'new.sock'))
  const withNew = await stream.next(routeNamed('/svc/new/'), 'the new socket /svc/new/')
  t.match(withNew.routes.find((r) => r.prefix === '/svc/new/'), { target: 'svc/new.sock', status: 'up', source: 'discovered' })

  const seen = stream.states.length
  await added.close()
  const without = await stream.next((s) => !routeNamed('/svc/new/')(s), 'no /svc/new/ any more', seen)
  t.same(without.routes.map((r) => r.prefix), ['/svc/ui/'])
})

t.test('a reader that leaves is forgotten: no listener stays on the route store', async (t) => {
  const dir = makeTempDir(t)
  const { url, router } = await startTestRouter(t, { socketDir: dir })
  const before = router.store.listenerCount('swap')
  const streams = await Promise.all([1, 2, 3].map(() => openEventStream(t, `${url}/_sockrouter/events`)))
  await Promise.all(streams.map((s) => s.next(() => true, 'a first state')))
  t.equal(router.store.listenerCount('swap'), before + 1, 'one listener for all readers')
  const gone = new Promise<void>((resolve) => {
    const check = (): void => { if (router.store.listenerCount('swap') === before) resolve(); else setImmediate(check) }
    check()
  })
  for (const s of streams) s.close()
  await withTimeout(gone, DEADLINE_MS, 'the store listener to go')
  t.equal(router.store.listenerCount('swap'), before)
})

t.test('closing the router ends open feeds at once instead of waiting out the shutdown grace', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  // A grace far past the deadline: a close that waits for the feed fails the test.
  const { url, router } = await startTestRouter(t, { socketDir: dir, shutdownGraceMs: 120_000 })
  const stream = await openEventStream(t, `${url}/_sockrouter/events`)
  await stream.next(() => true, 'a first state')
  await withTimeout(router.close(), DEADLINE_MS, 'the router to close')
  await withTimeout(stream.ended, DEADLINE_MS, 'the feed to end')
  t.pass('the feed ended and the router closed')
})

/** A health source as the health side provides it (issue #12 contract §1), driven by hand. */
class FakeHealth extends EventEmitter<{ change: [string, HealthRecord] }> {
  readonly records = new Map<string, HealthRecord>()
  get (prefix: string): HealthRecord {
    return this.records.get(prefix) ?? { state: 'unknown', since: 0, cause: null }
  }

  set (prefix: string, record: HealthRecord): void {
    this.records.set(prefix, record)
    this.emit('change', prefix, record)
  }
}

const SAMPLE: RouteActivitySample = { requestsPerSecond: 12.5, errorRate: 0.25, p50Ms: 3.2, p99Ms: 41, tunnelsOpen: 2, bytesIn: 1000, bytesOut: 20000 }
const ERROR: RecentError = { at: '2026-01-01T00:00:00.000Z', route: '/svc/a/', method: 'GET', path: '/svc/a/x', status: 502, code: 'upstream_unreachable' }

function tableOf (...names: string[]): ReturnType<typeof buildRouteTable>['table'] {
  return buildRouteTable(socketsOnly({
    dir: '/d',
    sockets: names.map((name, i) => ({ service: 'svc', name, path: `/d/svc/${name}.sock`, relativePath: `svc/${name}.sock`, identity: String(i) }))
  })).table
}

t.test('a table swap and a health change are pushed soon, not at the next steady push', async (t) => {
  const store = new RouteStore()
  store.swap(tableOf('a'))
  const health = new FakeHealth()
  const app = Fastify()
  // A steady push an hour away: any event after the first comes from the change path.
  registerLiveFeed(app, '/_sockrouter', {
    store,
    startedAt: Date.now(),
    version: '9.9.9',
    configErrors: () => ['services.d/bad.yaml:3: target: is required'],
    rescanFailure: () => null,
    health,
    activity: { sample: () => SAMPLE, recentErrors: () => [ERROR] },
    pushIntervalMs: 3_600_000
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const { port } = app.server.address() as { port: number }
  const stream = await openEventStream(t, `http://127.0.0.1:${port}/_sockrouter/events`)
  const first = await stream.next(() => true, 'a first state')
  t.match(first, {
    router: { status: 'degraded', version: '9.9.9', configErrors: ['services.d/bad.yaml:3: target: is required'] },
    errors: [ERROR],
    routes: [{ prefix: '/svc/a/', health: 'unknown', ...SAMPLE }]
  })

  store.swap(tableOf('a', 'b'))
  await stream.next(routeNamed('/svc/b/'), '/svc/b/ after the swap', 1)

  const since = Date.parse('2026-01-01T12:00:00.000Z')
  health.set('/svc/a/', { state: 'unreachable', since, cause: 'connect ECONNREFUSED' })
  const changed = await stream.next((s) => s.routes[0]?.health === 'unreachable', 'the health change', 2)
  t.match(changed.routes[0], { health: 'unreachable', healthSince: '2026-01-01T12:00:00.000Z', healthCause: 'connect ECONNREFUSED' })
  t.same(changed.health, { healthy: 0, unhealthy: 0, unreachable: 1, unknown: 1 })

  // Changes in a burst share one push.
  const seen = stream.states.length
  for (let i = 0; i < 20; i++) health.set('/svc/b/', { state: i % 2 === 0 ? 'healthy' : 'unhealthy', since, cause: null })
  health.set('/svc/b/', { state: 'healthy', since, cause: null })
  await stream.next((s) => s.routes[1]?.health === 'healthy', 'the burst', seen)
  t.equal(stream.states.length, seen + 1, 'one push for the burst')

  stream.close()
  await withTimeout(new Promise<void>((resolve) => {
    const check = (): void => { if (health.listenerCount('change') === 0) resolve(); else setImmediate(check) }
    check()
  }), DEADLINE_MS, 'the health listener to go')
  t.equal(store.listenerCount('swap'), 0)
})
