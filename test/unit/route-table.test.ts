import t from 'tap'
import { buildRouteTable, socketsOnly } from '../../src/routing/build-route-table.js'
import { describeChange, diffRouteTables } from '../../src/routing/diff-route-tables.js'
import { matchRoute } from '../../src/routing/match-route.js'
import { parseRequestTarget } from '../../src/routing/parse-request-target.js'
import type { DiscoveredSocket } from '../../src/routing/route-types.js'

function socket (relativePath: string, identity = '1:1:1'): DiscoveredSocket {
  const [service, file] = relativePath.includes('/') ? relativePath.split('/') as [string, string] : [relativePath.replace(/\.sock$/, ''), null]
  return { service, name: file === null ? null : file.replace(/\.sock$/, ''), path: `/d/${relativePath}`, relativePath, identity }
}

t.test('the build is pure and independent of input order', async (t) => {
  const a = buildRouteTable(socketsOnly({ dir: '/d', sockets: [socket('b/ui.sock'), socket('a.sock'), socket('a/rpc.sock')] }))
  const b = buildRouteTable(socketsOnly({ dir: '/d', sockets: [socket('a/rpc.sock'), socket('b/ui.sock'), socket('a.sock')] }))
  t.same(a.table.routes, b.table.routes)
  t.same(a.table.routes.map((r) => r.prefix), ['/a/', '/a/rpc/', '/b/ui/'])
  t.same([...a.table.parents], ['a', 'b'])
  t.ok(Object.isFrozen(a.table) && Object.isFrozen(a.table.routes))
})

t.test('the reserved name is skipped with a reason', async (t) => {
  const { table, skipped } = buildRouteTable(socketsOnly({ dir: '/d', sockets: [socket('_sockrouter/x.sock'), socket('_sockrouter.sock')] }))
  t.equal(table.routes.length, 0)
  t.equal(skipped.length, 2)
  t.match(skipped[0]?.reason, /reserved/)
})

t.test('a re-created socket gets a new pool origin', async (t) => {
  const before = buildRouteTable(socketsOnly({ dir: '/d', sockets: [socket('s/ui.sock', '1:2:3')] })).table
  const after = buildRouteTable(socketsOnly({ dir: '/d', sockets: [socket('s/ui.sock', '1:2:4')] })).table
  t.not(before.routes[0]?.upstream.origin, after.routes[0]?.upstream.origin)
  const changes = diffRouteTables(before, after)
  t.same(changes.map((c) => c.kind), ['changed'])
  t.equal(describeChange(changes[0]!), 'route changed /s/ui/ -> s/ui.sock')
  t.same(diffRouteTables(before, before), [])
})

t.test('longest prefix wins and the rest is sliced from the raw path', async (t) => {
  const { table } = buildRouteTable(socketsOnly({ dir: '/d', sockets: [socket('s.sock'), socket('s/ui.sock')] }))
  const route = (target: string): [string | undefined, string | undefined] => {
    const m = matchRoute(table, parseRequestTarget(target))
    return [m?.route.prefix, m?.upstreamPath]
  }
  t.same(route('/s/ui/x%2Fy?q'), ['/s/ui/', '/x%2Fy?q'])
  t.same(route('/s/ui'), ['/s/ui/', '/'])
  t.same(route('/s/other'), ['/s/', '/other'])
  t.same(route('/s'), ['/s/', '/'])
  t.same(route('/t/ui'), [undefined, undefined])
  t.throws(() => route('/s/ui%2F/x'), { code: 'bad_request' }, 'an encoded slash in a segment that names a route')
})

t.test('a flat route forwards encoded characters in what follows its prefix', async (t) => {
  const { table } = buildRouteTable(socketsOnly({ dir: '/d', sockets: [socket('flat.sock'), socket('other/ui.sock')] }))
  const m = matchRoute(table, parseRequestTarget('/flat/a%2Fb/%5C%00?x'))
  t.equal(m?.upstreamPath, '/a%2Fb/%5C%00?x')
  t.throws(() => matchRoute(table, parseRequestTarget('/fl%2Fat/x')), { code: 'bad_request' })
})
