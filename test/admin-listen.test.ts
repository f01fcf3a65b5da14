import { existsSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { parseOptions } from '../src/cli/parse-options.js'
import { parseListenAddress } from '../src/listen/listen-address.js'
import { curlUnix } from './helpers/admin-client.js'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import { runCli, startCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'

/** issue #12, item 4: `--admin-listen` serves the admin surface, and only it, on a listener of its own. */

t.test('an --admin-listen unix socket serves the admin surface to curl --unix-socket', async (t) => {
  const dir = makeTempDir(t)
  const socketDir = join(dir, 's')
  await startBackend(t, join(socketDir, 'svc', 'ui.sock'))
  const adminSock = join(dir, 'admin.sock')
  const { url } = await startTestRouter(t, { socketDir, adminListen: [parseListenAddress(`unix:${adminSock}`)] })

  const health = await curlUnix(adminSock, '/_sockrouter/health')
  t.equal(health.status, 200)
  t.match(JSON.parse(health.body), { status: 'ok', routes: 1 })
  const routes = await curlUnix(adminSock, '/_sockrouter/routes')
  t.equal(routes.status, 200)
  t.match(JSON.parse(routes.body), { routes: [{ prefix: '/svc/ui/' }] })
  const files = await curlUnix(adminSock, '/_sockrouter/api/tunnels')
  t.same(JSON.parse(files.body), { tunnels: [] }, 'the admin API answers there')
  const reload = await curlUnix(adminSock, '/_sockrouter/api/reload', ['-X', 'POST'])
  t.equal(reload.status, 200, 'writes are allowed on an admin listener')

  t.equal((await httpGet(`${url}/svc/ui/`)).status, 200, 'the public listener routes the service')
  const proxied = await curlUnix(adminSock, '/svc/ui/')
  t.equal(proxied.status, 404, 'the admin listener proxies nothing')
  t.match(JSON.parse(proxied.body), { error: 'no_route' })
})

t.test('the unix admin socket is private to the router user (mode 0600)', async (t) => {
  const dir = makeTempDir(t)
  const adminSock = join(dir, 'admin.sock')
  await startTestRouter(t, { socketDir: join(dir, 's'), adminListen: [parseListenAddress(`unix:${adminSock}`)] })
  t.equal(statSync(adminSock).mode & 0o777, 0o600)
})

t.test('a TCP --admin-listen serves the admin surface and nothing else', async (t) => {
  const dir = makeTempDir(t)
  const socketDir = join(dir, 's')
  await startBackend(t, join(socketDir, 'svc', 'ui.sock'))
  const { router } = await startTestRouter(t, { socketDir, adminListen: [parseListenAddress('127.0.0.1:0')] })
  const address = router.adminListeners[0]?.address
  if (address?.kind !== 'tcp') throw new Error('no TCP admin listener')
  const base = `http://127.0.0.1:${address.port}`
  t.equal((await httpGet(`${base}/_sockrouter/health`)).status, 200)
  const reload = await httpGet(`${base}/_sockrouter/api/reload`, { method: 'POST' })
  t.equal(reload.status, 200, 'full access, writes included')
  t.equal((await httpGet(`${base}/svc/ui/`)).status, 404, 'no proxying on the admin listener')
  const rebound = await httpGet(`${base}/_sockrouter/routes`, { headers: { host: 'rebind.example' } })
  t.equal(rebound.status, 403, 'the Host guard stands in front of the admin listener too (DNS rebinding)')
})

t.test('the admin socket closes and its file goes at shutdown', async (t) => {
  const dir = makeTempDir(t)
  const adminSock = join(dir, 'admin.sock')
  const { router } = await startTestRouter(t, { socketDir: join(dir, 's'), adminListen: [parseListenAddress(`unix:${adminSock}`)] })
  t.equal((await curlUnix(adminSock, '/_sockrouter/health')).status, 200)
  await router.close()
  t.notOk(existsSync(adminSock), 'socket file removed')
  const refused = await new Promise<string>((resolve) => {
    const socket = connect(adminSock)
    socket.once('connect', () => { socket.destroy(); resolve('connected') })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
  })
  t.equal(refused, 'ENOENT')
})

t.test('--admin-listen is repeatable, SOCKROUTER_ADMIN_LISTEN comma-separates, bad addresses are usage errors', async (t) => {
  const flags = parseOptions(['--admin-listen', 'unix:/run/a.sock', '--admin-listen', '127.0.0.1:9990'], {})
  t.same(flags.adminListen, [{ kind: 'unix', path: '/run/a.sock' }, { kind: 'tcp', host: '127.0.0.1', port: 9990 }])
  t.same(parseOptions([], { SOCKROUTER_ADMIN_LISTEN: 'unix:/x.sock, 9991' }).adminListen, [{ kind: 'unix', path: '/x.sock' }, { kind: 'tcp', host: '127.0.0.1', port: 9991 }])
  t.same(parseOptions([], {}).adminListen, [], 'none by default')
  t.throws(() => parseOptions(['--admin-listen', 'unix:'], {}), { code: 'usage' })
  t.throws(() => parseOptions(['--admin-listen', 'nope:port'], {}), /--admin-listen: /)
  t.equal(parseOptions(['--public-admin'], {}).publicAdmin, true)
  t.equal(parseOptions([], { SOCKROUTER_PUBLIC_ADMIN: '1' }).publicAdmin, true)
  t.equal(parseOptions([], {}).publicAdmin, false)
  t.throws(() => parseOptions([], { SOCKROUTER_PUBLIC_ADMIN: 'maybe' }), { code: 'usage' })
})

t.test('bin/sockrouter --admin-listen unix:… is reachable with curl', async (t) => {
  const dir = makeTempDir(t)
  const adminSock = join(dir, 'admin.sock')
  const cli = startCli(t, ['--socket-dir', join(dir, 's'), '--listen', '127.0.0.1:0', '--admin-listen', `unix:${adminSock}`])
  t.match(await cli.waitForLine((l) => l.admin === true), { address: `unix:${adminSock}` })
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  const health = await curlUnix(adminSock, '/_sockrouter/health')
  t.equal(health.status, 200)
  t.match(JSON.parse(health.body), { status: 'ok' })
  t.equal(await cli.stop(), 0)
  t.notOk(existsSync(adminSock), 'removed on exit')
})

t.test('sockrouter routes reads the table from --admin-listen and still shows curl commands through --listen', async (t) => {
  const dir = makeTempDir(t)
  const socketDir = join(dir, 's')
  await startBackend(t, join(socketDir, 'svc', 'ui.sock'))
  const adminSock = join(dir, 'admin.sock')
  const { router } = await startTestRouter(t, { socketDir, listen: [parseListenAddress('0.0.0.0:0')], adminListen: [parseListenAddress(`unix:${adminSock}`)] })
  const address = router.listeners[0]?.address
  if (address?.kind !== 'tcp') throw new Error('no TCP listener')
  const refused = await runCli(['routes', '--listen', `0.0.0.0:${address.port}`])
  t.equal(refused.code, 1, 'a non-loopback listener does not show its routes')
  t.match(refused.stderr, /answered 404.*--admin-listen/)
  const res = await runCli(['routes', '--listen', `0.0.0.0:${address.port}`, '--admin-listen', `unix:${adminSock}`])
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, /\/svc\/ui\//)
  t.match(res.stdout, new RegExp(`via router: +curl http://127\\.0\\.0\\.1:${address.port}/svc/ui/`))
})
