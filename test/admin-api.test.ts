import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { WebSocket } from 'ws'
import { readSnapshot } from '../src/discovery/read-snapshot.js'
import { parseListenAddress } from '../src/listen/listen-address.js'
import { adminOverUnix, type AdminCall } from './helpers/admin-client.js'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { hasRoute, startTestRouter, waitForTable, type TestRouterOptions } from './helpers/router.js'
import { writeRouteFile } from './helpers/services-dir.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { DEADLINE_MS, onceWithin } from './helpers/wait-for.js'
import { openClient, startWsBackend } from './helpers/ws-backend.js'

/** issue #12, item 4: the admin API, driven over an --admin-listen unix socket. */

interface Setup {
  readonly root: string
  readonly socketDir: string
  readonly servicesDir: string
  readonly adminSock: string
  readonly url: string
  readonly router: Awaited<ReturnType<typeof startTestRouter>>
  api (path: string, call?: AdminCall): ReturnType<typeof adminOverUnix>
}

async function setup (t: Parameters<typeof makeTempDir>[0], options: Partial<TestRouterOptions> = {}): Promise<Setup> {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'services.d')
  const adminSock = join(root, 'admin.sock')
  const router = await startTestRouter(t, { socketDir, servicesDir, adminListen: [parseListenAddress(`unix:${adminSock}`)], ...options })
  return { root, socketDir, servicesDir, adminSock, url: router.url, router, api: (path, call) => adminOverUnix(adminSock, `/_sockrouter/api${path}`, call) }
}

const yaml = (prefix: string, socket: string): string => `# written through the admin API\nroutes:\n  - prefix: ${prefix}\n    socket: ${socket}\n`

t.test('PUT of a valid route file writes it, and the route serves once the answer is in', async (t) => {
  const s = await setup(t)
  const backend = await startBackend(t, join(s.root, 'b', 'put.sock'))
  const text = yaml('/put', backend.socketPath)
  const res = await s.api('/route-files/put.yaml', { method: 'PUT', body: text, contentType: 'application/yaml' })
  t.equal(res.status, 201, 'created')
  t.match(res.json, { name: 'put.yaml', file: 'services.d/put.yaml', created: true, routes: [{ prefix: '/put/', status: 'up' }], errors: [], changes: [{ change: 'added', prefix: '/put/' }], rescanError: null })
  t.equal(readFileSync(join(s.servicesDir, 'put.yaml'), 'utf8'), text, 'the body is written as sent, comments and all')
  t.equal(statSync(join(s.servicesDir, 'put.yaml')).mode & 0o777, 0o600, 'a new route file is private to the router user')
  t.same(readdirSync(s.servicesDir), ['put.yaml'], 'no temp file is left behind')
  // No waiting: the answer came after the rescan put the file in force.
  const served = await httpGet(`${s.url}/put/x`)
  t.equal(served.status, 200)
  t.equal(backend.seen.at(-1)?.url, '/x')

  const replaced = await s.api('/route-files/put.yaml', { method: 'PUT', body: yaml('/put2', backend.socketPath), contentType: 'application/yaml' })
  t.equal(replaced.status, 200, 'a replaced file answers 200')
  t.match(replaced.json, { created: false, routes: [{ prefix: '/put2/' }] })
  t.match(replaced.json?.changes, [{ change: 'removed', prefix: '/put/' }, { change: 'added', prefix: '/put2/' }], 'in prefix order')
  t.equal((await httpGet(`${s.url}/put2/y`)).status, 200)
  t.equal((await httpGet(`${s.url}/put/y`)).status, 404)
})

t.test('a PUT whose prefix another file already declares says which route was left out', async (t) => {
  const s = await setup(t)
  const backend = await startBackend(t, join(s.root, 'b', 'dup.sock'))
  const first = await s.api('/route-files/a.yaml', { method: 'PUT', body: yaml('/dup', backend.socketPath), contentType: 'application/yaml' })
  t.match(first.json, { skipped: [] })
  const second = await s.api('/route-files/b.yaml', { method: 'PUT', body: yaml('/dup', backend.socketPath), contentType: 'application/yaml' })
  t.equal(second.status, 201)
  t.match(second.json, { routes: [], skipped: [{ what: /services\.d\/b\.yaml/, reason: /\/dup\/.*a\.yaml/ }] }, 'the skip is in the answer, as in /_sockrouter/health')
  const removed = await s.api('/route-files/b.yaml', { method: 'DELETE' })
  t.match(removed.json, { deleted: true, skipped: [] })
})

t.test('PUT of a JSON body is validated by the same parser', async (t) => {
  const s = await setup(t)
  const backend = await startBackend(t, join(s.root, 'b', 'j.sock'))
  const body = JSON.stringify({ routes: [{ prefix: '/j', socket: backend.socketPath, stripPrefix: false }] })
  const res = await s.api('/route-files/j.json', { method: 'PUT', body, contentType: 'application/json; charset=utf-8' })
  t.equal(res.status, 201)
  t.equal((await httpGet(`${s.url}/j/z`)).status, 200)
  t.equal(backend.seen.at(-1)?.url, '/j/z', 'stripPrefix: false came through')
  const fetched = await s.api('/route-files/j.json')
  t.match(fetched.json, { name: 'j.json', content: { routes: [{ prefix: '/j', stripPrefix: false }] }, text: body, errors: [] })
})

t.test('PUT of an invalid route file is a 400 with the file:line errors, and nothing is written', async (t) => {
  const s = await setup(t)
  const backend = await startBackend(t, join(s.root, 'b', 'ok.sock'))
  writeRouteFile(s.servicesDir, 'apps.yaml', yaml('/apps', backend.socketPath))
  await waitForTable(s.router.router, hasRoute('/apps/'), DEADLINE_MS)
  const bad = 'routes:\n  - prefix: /apps\n    socket: x.sock\n    timeouts:\n      conect: 5s\n      upstream: soon\n'
  for (const name of ['apps.yaml', 'new.yaml']) {
    const res = await s.api(`/route-files/${name}`, { method: 'PUT', body: bad, contentType: 'application/yaml' })
    t.equal(res.status, 400, name)
    t.same(res.json, {
      error: 'invalid_route_file',
      message: 'The route file is invalid; nothing was written.',
      errors: [
        `services.d/${name}:5: routes[0].timeouts.conect: unknown key (a typo?)`,
        `services.d/${name}:6: routes[0].timeouts.upstream: must be a duration like "5s"`
      ]
    }, `${name}: the same lines sockrouter check prints`)
  }
  t.equal(readFileSync(join(s.servicesDir, 'apps.yaml'), 'utf8'), yaml('/apps', backend.socketPath), 'the existing file is untouched')
  t.notOk(existsSync(join(s.servicesDir, 'new.yaml')), 'no new file')
  t.same(readdirSync(s.servicesDir), ['apps.yaml'], 'no temp file either')
  const syntax = await s.api('/route-files/new.yaml', { method: 'PUT', body: 'routes: [\n', contentType: 'application/yaml' })
  t.equal(syntax.status, 400)
  t.match(syntax.json, { error: 'invalid_route_file', errors: [/^services\.d\/new\.yaml:\d+: /] })
  t.equal((await httpGet(`${s.url}/apps/x`)).status, 200, 'the route in force still serves')
})

t.test('route file names, media types and sizes are checked before anything is written', async (t) => {
  const s = await setup(t)
  const body = 'routes: []\n'
  for (const name of ['.hidden.yaml', 'notes.txt', 'a%2Fb.yaml', '..%2Fescape.yaml', '%2E%2E.yaml', 'x.yaml%00']) {
    const res = await s.api(`/route-files/${name}`, { method: 'PUT', body, contentType: 'application/yaml' })
    t.equal(res.status, 400, `${name} is refused`)
    t.match(res.json, { error: 'bad_request', message: /plain file name/ })
  }
  const plain = await s.api('/route-files/ok.yaml', { method: 'PUT', body, contentType: 'text/plain' })
  t.equal(plain.status, 415)
  t.match(plain.json, { error: 'unsupported_media_type' })
  const none = await s.api('/route-files/ok.yaml', { method: 'PUT', body })
  t.equal(none.status, 415, 'a body without a Content-Type is refused')
  const huge = await s.api('/route-files/ok.yaml', { method: 'PUT', body: `# ${'x'.repeat(1024 * 1024)}\nroutes: []\n`, contentType: 'application/yaml' })
  t.equal(huge.status, 413)
  t.match(huge.json, { error: 'payload_too_large' })
  t.notOk(existsSync(s.servicesDir), 'nothing was written, not even the directory')
  const created = await s.api('/route-files/ok.yaml', { method: 'PUT', body, contentType: 'application/yaml' })
  t.equal(created.status, 201, 'a missing services dir is created on the first PUT')
})

t.test('without a services dir, route-file writes are a 409', async (t) => {
  const s = await setup(t, { servicesDir: null })
  const res = await s.api('/route-files/x.yaml', { method: 'PUT', body: 'routes: []\n', contentType: 'application/yaml' })
  t.equal(res.status, 409)
  t.match(res.json, { error: 'conflict', message: /no services directory/ })
  t.same((await s.api('/route-files')).json, { servicesDir: null, files: [] })
})

t.test('GET lists the route files with their routes and errors, and shows one parsed', async (t) => {
  const s = await setup(t)
  const backend = await startBackend(t, join(s.root, 'b', 'l.sock'))
  writeRouteFile(s.servicesDir, '10-good.yaml', yaml('/listed', backend.socketPath))
  writeRouteFile(s.servicesDir, '20-bad.yaml', 'routes:\n  - prefix: /bad\n')
  await waitForTable(s.router.router, hasRoute('/listed/'), DEADLINE_MS)
  await s.router.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('services.d/20-bad.yaml rejected'))
  const list = await s.api('/route-files')
  t.equal(list.status, 200)
  t.match(list.json, {
    servicesDir: 'services.d',
    files: [
      { name: '10-good.yaml', file: 'services.d/10-good.yaml', routes: [{ prefix: '/listed/', target: 'l.sock', status: 'up' }], errors: [], stale: false },
      { name: '20-bad.yaml', routes: [], errors: ['services.d/20-bad.yaml:2: routes[0]: needs exactly one of "socket" and "url"'], stale: false }
    ]
  })
  const one = await s.api('/route-files/10-good.yaml')
  t.match(one.json, { name: '10-good.yaml', content: { routes: [{ prefix: '/listed', socket: backend.socketPath }] }, routes: [{ prefix: '/listed/' }], errors: [] })
  const missing = await s.api('/route-files/nope.yaml')
  t.equal(missing.status, 404)
  t.match(missing.json, { error: 'not_found' })
})

t.test('DELETE removes a route file and its routes, and a missing one is a 404', async (t) => {
  const s = await setup(t)
  const backend = await startBackend(t, join(s.root, 'b', 'd.sock'))
  writeRouteFile(s.servicesDir, 'gone.yaml', yaml('/gone', backend.socketPath))
  await waitForTable(s.router.router, hasRoute('/gone/'), DEADLINE_MS)
  const res = await s.api('/route-files/gone.yaml', { method: 'DELETE' })
  t.equal(res.status, 200)
  t.match(res.json, { name: 'gone.yaml', deleted: true, changes: [{ change: 'removed', prefix: '/gone/' }] })
  t.notOk(existsSync(join(s.servicesDir, 'gone.yaml')))
  t.equal((await httpGet(`${s.url}/gone/x`)).status, 404, 'the route is gone once the answer is in')
  const again = await s.api('/route-files/gone.yaml', { method: 'DELETE' })
  t.equal(again.status, 404)
  t.match(again.json, { error: 'not_found' })
})

t.test('POST reload rescans as SIGHUP does and answers with what changed', async (t) => {
  // The only way the table can change here is the rescan the request asks for: the disk does not change.
  let hide = false
  const s = await setup(t, {
    readSnapshot: async (...args) => {
      const snapshot = await readSnapshot(...args)
      return hide ? { ...snapshot, sockets: { ...snapshot.sockets, sockets: snapshot.sockets.sockets.filter((x) => x.service !== 'svc') } } : snapshot
    }
  })
  await startBackend(t, join(s.socketDir, 'svc', 'ui.sock'))
  await waitForTable(s.router.router, hasRoute('/svc/ui/'), DEADLINE_MS)
  hide = true
  const res = await s.api('/reload', { method: 'POST' })
  t.equal(res.status, 200)
  t.same(res.json, { changes: [{ change: 'removed', prefix: '/svc/ui/', target: 'svc/ui.sock', status: 'up' }], configErrors: [], rescanError: null })
  t.equal((await httpGet(`${s.url}/svc/ui/`)).status, 404, 'the new table is in force once the answer is in')
  hide = false
  const back = await s.api('/reload', { method: 'POST' })
  t.match(back.json, { changes: [{ change: 'added', prefix: '/svc/ui/' }] })
  const quiet = await s.api('/reload', { method: 'POST' })
  t.same(quiet.json, { changes: [], configErrors: [], rescanError: null }, 'nothing changed, nothing listed')
})

t.test('the open tunnels are listed, and DELETE closes one on both sides', async (t) => {
  const s = await setup(t)
  const ws = await startWsBackend(t, join(s.socketDir, 'chat', 'ws.sock'))
  await waitForTable(s.router.router, hasRoute('/chat/ws/'), DEADLINE_MS)
  const backendSide = ws.nextConnection()
  const client: WebSocket = await openClient(`ws://127.0.0.1:${s.router.port}/chat/ws/`)
  const server = await backendSide
  client.send('hello')
  await onceWithin(client, 'message', 'the echo')

  const list = await s.api('/tunnels')
  t.equal(list.status, 200)
  const tunnels = list.json?.tunnels as Record<string, unknown>[]
  t.equal(tunnels.length, 1)
  const localPort = (client as unknown as { _socket: { localPort: number } })._socket.localPort
  t.match(tunnels[0], { route: '/chat/ws/', client: `127.0.0.1:${localPort}`, ageSeconds: Number, startedAt: String })
  t.ok((tunnels[0]?.bytesIn as number) >= 5 + 2, 'bytes client → backend counted (a masked 5-byte frame is 11)')
  t.ok((tunnels[0]?.bytesOut as number) >= 5 + 2, 'bytes backend → client counted')

  const clientClosed = onceWithin(client, 'close', 'the client to see the close')
  const serverClosed = onceWithin(server, 'close', 'the backend to see the close')
  const closed = await s.api(`/tunnels/${String(tunnels[0]?.id)}`, { method: 'DELETE' })
  t.equal(closed.status, 200)
  t.same(closed.json, { id: tunnels[0]?.id, closed: true })
  await clientClosed
  await serverClosed
  t.pass('client and backend both saw the tunnel close')
  t.same((await s.api('/tunnels')).json, { tunnels: [] }, 'gone from the list once the answer is in')
  t.match(await s.router.waitForLog((l) => l.msg === 'websocket tunnel closed'), { reason: 'admin' }, 'logged as cut by the admin API, not as an error')
  const again = await s.api(`/tunnels/${String(tunnels[0]?.id)}`, { method: 'DELETE' })
  t.equal(again.status, 404)
  t.match(again.json, { error: 'not_found' })
})
