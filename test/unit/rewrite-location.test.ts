import t from 'tap'
import { parseRouteFile } from '../../src/config/parse-route-file.js'
import { buildRouteTable } from '../../src/routing/build-route-table.js'
import { rewriteLocation } from '../../src/forward/rewrite-location.js'
import type { Route } from '../../src/routing/route-types.js'

function routeFrom (yaml: string): Route {
  const parsed = parseRouteFile('services.d/t.yaml', yaml, '/s')
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'))
  const file = { file: 'services.d/t.yaml', specs: parsed.specs, errors: [], stale: false }
  const { table } = buildRouteTable({ sockets: { dir: '/s', sockets: [], serviceDirs: [] }, files: [file], socketStates: new Map([['/s/a.sock', '1']]) })
  return table.routes[0] as Route
}

t.test('rewrite maps back by whole segments only', async (t) => {
  const route = routeFrom('routes:\n  - prefix: /app\n    socket: a.sock\n    rewrite: /api\n')
  t.equal(rewriteLocation('/api/login', route), '/app/login')
  t.equal(rewriteLocation('/api', route), '/app/')
  t.equal(rewriteLocation('/api?next=1', route), '/app/?next=1')
  t.equal(rewriteLocation('/apifoo', route), '/app/apifoo', 'not a segment of the rewrite path')
  t.equal(rewriteLocation('//cdn.example/x', route), '//cdn.example/x', 'scheme-relative URLs are left alone')
})

t.test('URL targets: their own absolute URLs and base path map back', async (t) => {
  const route = routeFrom('routes:\n  - prefix: /r\n    url: http://127.0.0.1:9/base\n')
  t.equal(rewriteLocation('http://127.0.0.1:9/base/x', route), '/r/x')
  t.equal(rewriteLocation('/base?y', route), '/r/?y')
  t.equal(rewriteLocation('/elsewhere', route), '/elsewhere', 'outside the base path: not ours to move')
  t.equal(rewriteLocation('http://other:9/base/x', route), 'http://other:9/base/x')
})

t.test('prefixes with dot-segments are rejected, since no request could match them', async (t) => {
  for (const prefix of ['/..', '/a/.', '/a/../b']) {
    const parsed = parseRouteFile('services.d/t.yaml', `routes:\n  - prefix: ${prefix}\n    socket: a.sock\n`, '/s')
    t.notOk(parsed.ok, prefix)
  }
  t.ok(parseRouteFile('services.d/t.yaml', 'routes:\n  - prefix: /a/.well-known\n    socket: a.sock\n', '/s').ok, 'a dot inside a name is fine')
})
