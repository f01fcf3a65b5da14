import t from 'tap'
import { RouteHealth, type HealthRecord } from '../../src/health/route-health.js'
import { buildRouteTable, socketsOnly } from '../../src/routing/build-route-table.js'
import type { DiscoveredSocket, RouteTable } from '../../src/routing/route-types.js'

/** Issue #12: RouteHealth's rules, on tables from the real build, with a clock of our own. */

function table (...sockets: Array<[relativePath: string, identity: string]>): RouteTable {
  const discovered = sockets.map(([relativePath, identity]): DiscoveredSocket => {
    const [service, file] = relativePath.split('/') as [string, string]
    return { service, name: file.replace(/\.sock$/, ''), path: `/d/${relativePath}`, relativePath, identity }
  })
  return buildRouteTable(socketsOnly({ dir: '/d', sockets: discovered })).table
}

function setup (): { health: RouteHealth, changes: Array<[string, HealthRecord]>, clock: { now: number } } {
  const clock = { now: 1000 }
  const health = new RouteHealth({ now: () => clock.now })
  const changes: Array<[string, HealthRecord]> = []
  health.on('change', (prefix, record) => changes.push([prefix, record]))
  return { health, changes, clock }
}

t.test('a new route is unknown since it was first seen; a prefix with no route is unknown since 0', async (t) => {
  const { health, changes } = setup()
  health.sync(table(['a/x.sock', '1']))
  t.same(health.get('/a/x/'), { state: 'unknown', since: 1000, cause: null })
  t.same(health.get('/nope/'), { state: 'unknown', since: 0, cause: null })
  t.same(health.counts(), { healthy: 0, unhealthy: 0, unreachable: 0, unknown: 1 })
  t.same(changes, [], 'being added is not a change of state')
})

t.test('refused or missing marks unreachable once; other failures are not evidence', async (t) => {
  const { health, changes, clock } = setup()
  health.sync(table(['a/x.sock', '1'], ['b/x.sock', '1']))
  clock.now = 2000
  health.observeFailure('/a/x/', 'ECONNREFUSED')
  health.observeFailure('/a/x/', 'ECONNREFUSED')
  health.observeFailure('/b/x/', 'ENOENT')
  health.observeFailure('/b/x/', 'ECONNRESET')
  health.observeFailure('/b/x/', undefined)
  t.same(changes, [
    ['/a/x/', { state: 'unreachable', since: 2000, cause: 'connect ECONNREFUSED' }],
    ['/b/x/', { state: 'unreachable', since: 2000, cause: 'connect ENOENT' }]
  ], 'one change each: the same state again is no event')
  health.observeFailure('/gone/', 'ECONNREFUSED')
  t.equal(health.get('/gone/').state, 'unknown', 'a prefix not in the table gets no record')
})

t.test('an answer clears unreachable and unknown to healthy, never a probe\'s unhealthy', async (t) => {
  const { health, changes, clock } = setup()
  health.sync(table(['a/x.sock', '1'], ['b/x.sock', '1'], ['c/x.sock', '1']))
  health.observeFailure('/a/x/', 'ECONNREFUSED')
  health.record('/b/x/', 'unhealthy', 'GET /health answered 503')
  changes.length = 0
  clock.now = 3000
  for (const prefix of ['/a/x/', '/b/x/', '/c/x/']) health.observeResponse(prefix)
  t.same(changes, [
    ['/a/x/', { state: 'healthy', since: 3000, cause: 'a request was answered' }],
    ['/c/x/', { state: 'healthy', since: 3000, cause: 'a request was answered' }]
  ])
  t.equal(health.get('/b/x/').state, 'unhealthy')
  const before = health.get('/a/x/')
  health.observeResponse('/a/x/')
  t.equal(health.get('/a/x/'), before, 'a healthy route answering again changes nothing: the same frozen record')
})

t.test('a re-created socket starts again at unknown; a removed route drops its record', async (t) => {
  const { health, changes, clock } = setup()
  health.sync(table(['a/x.sock', '1'], ['b/x.sock', '1']))
  health.record('/a/x/', 'healthy', 'GET /health answered 200')
  health.record('/b/x/', 'healthy', 'GET /health answered 200')
  changes.length = 0
  clock.now = 4000
  health.sync(table(['a/x.sock', '2'], ['b/x.sock', '1']))
  t.same(changes, [['/a/x/', { state: 'unknown', since: 4000, cause: null }]], 'a new identity: a new process, nothing known yet')
  t.equal(health.get('/b/x/').state, 'healthy', 'the same socket keeps its record')
  health.sync(table(['a/x.sock', '2']))
  t.same(health.get('/b/x/'), { state: 'unknown', since: 0, cause: null })
  t.same(health.counts(), { healthy: 0, unhealthy: 0, unreachable: 0, unknown: 1 })
})
