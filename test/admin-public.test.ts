import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parseListenAddress } from '../src/listen/listen-address.js'
import { adminOverTcp, adminOverUnix } from './helpers/admin-client.js'
import { startBackend } from './helpers/backend.js'
import { startTestRouter } from './helpers/router.js'
import { servicesDirWithGoodRoute } from './helpers/services-dir.js'
import { makeTempDir } from './helpers/temp-dir.js'

/**
 * issue #12, item 4: on a public listener the admin surface depends on where
 * the listener is bound. Non-loopback: /_sockrouter/health only, unless
 * --public-admin; loopback TCP: read-only; unix: everything.
 */

/** This machine's own non-loopback IPv4 address, or null. */
function ownAddress (): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const nic of list ?? []) if (nic.family === 'IPv4' && !nic.internal) return nic.address
  }
  return null
}

const OWN_IP = ownAddress()
const NO_IP = OWN_IP === null ? 'this machine has no non-loopback IPv4 address to bind a public listener on' : false

/** Every admin path other than health, with a method each. */
const ADMIN_PATHS: readonly [string, string][] = [
  ['GET', '/_sockrouter/routes'],
  ['GET', '/_sockrouter/'],
  ['GET', '/_sockrouter/metrics'],
  ['GET', '/_sockrouter/api/route-files'],
  ['GET', '/_sockrouter/api/route-files/good.yaml'],
  ['GET', '/_sockrouter/api/tunnels'],
  ['POST', '/_sockrouter/api/reload'],
  ['DELETE', '/_sockrouter/api/route-files/good.yaml'],
  ['DELETE', '/_sockrouter/api/tunnels/1']
]

t.test('a non-loopback public listener answers /_sockrouter/health and 404s the rest of the admin surface', { skip: NO_IP }, async (t) => {
  const { root, servicesDir } = await servicesDirWithGoodRoute(t)
  const { router } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir, listen: [parseListenAddress(`${OWN_IP}:0`)] })
  const address = router.listeners[0]?.address
  if (address?.kind !== 'tcp') throw new Error('no TCP listener')
  const base = `http://${OWN_IP}:${address.port}`

  const health = await adminOverTcp(base, '/_sockrouter/health')
  t.equal(health.status, 200, 'health answers')
  t.match(health.json, { status: 'ok' })
  const unrouted = await adminOverTcp(base, '/nothing/here/')
  for (const [method, path] of ADMIN_PATHS) {
    const res = await adminOverTcp(base, path, { method })
    t.equal(res.status, 404, `${method} ${path} is 404`)
    t.same(res.json, unrouted.json, `${method} ${path} looks like any unrouted path`)
    t.notMatch(res.text, /socketPath|\/tmp\//, `${method} ${path} shows no socket path`)
  }
  t.equal((await adminOverTcp(base, '/good/x')).status, 200, 'the listener still routes services')
})

t.test('a 0.0.0.0 public listener is non-loopback even when reached through 127.0.0.1', async (t) => {
  const dir = makeTempDir(t)
  const { router } = await startTestRouter(t, { socketDir: dir, listen: [parseListenAddress('0.0.0.0:0')] })
  const address = router.listeners[0]?.address
  if (address?.kind !== 'tcp') throw new Error('no TCP listener')
  const base = `http://127.0.0.1:${address.port}`
  t.equal((await adminOverTcp(base, '/_sockrouter/health')).status, 200)
  t.equal((await adminOverTcp(base, '/_sockrouter/routes')).status, 404, 'decided by the bound address, not by how the client got there')
  t.equal((await adminOverTcp(base, '/_sockrouter/routes', { headers: { host: 'localhost' } })).status, 404, 'nor by the Host header')
})

t.test('a browser\'s error page on a non-loopback listener does not link to the dashboard it cannot reach; on loopback it does', async (t) => {
  const dir = makeTempDir(t)
  const { router } = await startTestRouter(t, { socketDir: dir, listen: [parseListenAddress('0.0.0.0:0'), parseListenAddress('127.0.0.1:0')] })
  const [open, loopback] = router.listeners.map((l) => l.address)
  if (open?.kind !== 'tcp' || loopback?.kind !== 'tcp') throw new Error('no TCP listeners')
  const html = { headers: { accept: 'text/html' } }
  for (const path of ['/nothing/here/', '/_sockrouter/routes']) {
    const page = await adminOverTcp(`http://127.0.0.1:${open.port}`, path, html)
    t.equal(page.status, 404)
    t.match(page.text, /<h1>/, `${path}: an HTML page`)
    t.notMatch(page.text, /href="\/_sockrouter\/"/, `${path}: no dashboard link on 0.0.0.0`)
  }
  const page = await adminOverTcp(`http://127.0.0.1:${loopback.port}`, '/nothing/here/', html)
  t.match(page.text, /href="\/_sockrouter\/"/, 'the dashboard link on loopback')
})

t.test('--public-admin opens the read-only admin surface on a non-loopback listener; writes stay refused', { skip: NO_IP }, async (t) => {
  const { root, servicesDir } = await servicesDirWithGoodRoute(t)
  const { router } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir, listen: [parseListenAddress(`${OWN_IP}:0`)], publicAdmin: true })
  const address = router.listeners[0]?.address
  if (address?.kind !== 'tcp') throw new Error('no TCP listener')
  const base = `http://${OWN_IP}:${address.port}`
  t.equal((await adminOverTcp(base, '/_sockrouter/routes')).status, 200)
  // Route files may hold credentials: never on a TCP public listener, even with --public-admin.
  t.match(await adminOverTcp(base, '/_sockrouter/api/route-files/good.yaml'), { status: 403, json: { error: 'admin_read_only', message: /credentials/ } })
  t.equal((await adminOverTcp(base, '/_sockrouter/api/tunnels')).status, 200)
  const reload = await adminOverTcp(base, '/_sockrouter/api/reload', { method: 'POST' })
  t.equal(reload.status, 403)
  t.equal(reload.json?.error, 'admin_read_only')
})

t.test('a loopback TCP public listener serves the admin API read-only: writes and route files get 403 admin_read_only', async (t) => {
  const { root, servicesDir } = await servicesDirWithGoodRoute(t)
  const { url } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })
  t.equal((await adminOverTcp(url, '/_sockrouter/routes')).status, 200)
  for (const path of ['/_sockrouter/api/route-files', '/_sockrouter/api/route-files/good.yaml']) {
    t.match(await adminOverTcp(url, path), { status: 403, json: { error: 'admin_read_only', message: /credentials/ } }, `GET ${path}: route files may hold credentials`)
  }
  for (const [method, path, body] of [
    ['POST', '/_sockrouter/api/reload', undefined],
    ['PUT', '/_sockrouter/api/route-files/new.yaml', 'routes: []\n'],
    ['DELETE', '/_sockrouter/api/route-files/good.yaml', undefined],
    ['DELETE', '/_sockrouter/api/tunnels/1', undefined]
  ] as const) {
    const res = await adminOverTcp(url, path, { method, body, contentType: body === undefined ? undefined : 'application/yaml' })
    t.equal(res.status, 403, `${method} ${path}`)
    t.match(res.json, { error: 'admin_read_only', message: /read-only.*--admin-listen/ })
  }
  t.equal((await adminOverTcp(url, '/good/x')).status, 200, 'good.yaml was not deleted')
})

t.test('a unix public listener serves the whole admin surface, writes included', async (t) => {
  const dir = makeTempDir(t)
  const socketDir = join(dir, 's')
  await startBackend(t, join(socketDir, 'svc', 'ui.sock'))
  const routerSock = join(dir, 'r.sock')
  await startTestRouter(t, { socketDir, listen: [parseListenAddress(`unix:${routerSock}`)] })
  t.equal((await adminOverUnix(routerSock, '/_sockrouter/routes')).status, 200)
  const reload = await adminOverUnix(routerSock, '/_sockrouter/api/reload', { method: 'POST' })
  t.equal(reload.status, 200)
  t.same(reload.json, { changes: [], configErrors: [], rescanError: null })
})

t.test('a cross-origin write is refused, a same-origin one is not', async (t) => {
  const dir = makeTempDir(t)
  const routerSock = join(dir, 'r.sock')
  await startTestRouter(t, { socketDir: join(dir, 's'), listen: [parseListenAddress(`unix:${routerSock}`)] })
  const foreign = await adminOverUnix(routerSock, '/_sockrouter/api/reload', { method: 'POST', headers: { origin: 'https://evil.example' } })
  t.equal(foreign.status, 403)
  t.match(foreign.json, { error: 'forbidden', message: /Cross-origin/ })
  const same = await adminOverUnix(routerSock, '/_sockrouter/api/reload', { method: 'POST', headers: { origin: 'http://localhost' } })
  t.equal(same.status, 200)
})
