import { rmSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter, waitForTable } from './helpers/router.js'
import { startCli } from './helpers/run-cli.js'
import { writeRouteFile } from './helpers/services-dir.js'
import { nextMessage, openClient, startWsBackend } from './helpers/ws-backend.js'

t.test('a route file added, changed and removed takes effect within 500 ms', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'd')
  const a = await startBackend(t, join(socketDir, 'svc', 'a.sock'))
  const b = await startBackend(t, join(socketDir, 'svc', 'b.sock'))
  const { router, url } = await startTestRouter(t, { socketDir, servicesDir })

  const added = waitForTable(router, (table) => table.byKey.get('hot')?.upstream.label === 'svc/a.sock', 500, 'the added route')
  writeRouteFile(servicesDir, 'hot.yaml', 'routes:\n  - prefix: /hot\n    socket: svc/a.sock\n')
  await added
  await httpGet(`${url}/hot/1`)

  const changed = waitForTable(router, (table) => table.byKey.get('hot')?.upstream.label === 'svc/b.sock', 500, 'the changed route')
  writeRouteFile(servicesDir, 'hot.yaml', 'routes:\n  - prefix: /hot\n    socket: svc/b.sock\n')
  await changed
  await httpGet(`${url}/hot/2`)

  const removed = waitForTable(router, (table) => !table.byKey.has('hot'), 500, 'the removed route')
  rmSync(join(servicesDir, 'hot.yaml'))
  await removed
  t.equal((await httpGet(`${url}/hot/3`)).status, 404)
  t.same(a.seen.map((r) => r.url), ['/1'])
  t.same(b.seen.map((r) => r.url), ['/2'])
})

t.test('a services dir created after start is picked up', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  await startBackend(t, join(socketDir, 'svc', 'a.sock'))
  const { router } = await startTestRouter(t, { socketDir, servicesDir: join(root, 'later', 'services.d') })
  const added = waitForTable(router, (table) => table.byKey.has('late'), 1000, 'a route in the new directory')
  writeRouteFile(join(root, 'later', 'services.d'), 'late.yaml', 'routes:\n  - prefix: /late\n    socket: svc/a.sock\n')
  await added
  t.pass('routed')
})

t.test('an open tunnel keeps echoing across a reload that deletes its route', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'd')
  await startWsBackend(t, join(root, 'elsewhere', 'ws.sock'))
  writeRouteFile(servicesDir, 'ws.yaml', `routes:\n  - prefix: /live\n    socket: ${join(root, 'elsewhere', 'ws.sock')}\n`)
  const { router, port, url } = await startTestRouter(t, { socketDir, servicesDir })
  const ws = await openClient(`ws://127.0.0.1:${port}/live/`)
  ws.send('before')
  t.equal((await nextMessage(ws)).data.toString(), 'before')
  const gone = waitForTable(router, (table) => !table.byKey.has('live'), 1000, 'the route to go')
  rmSync(join(servicesDir, 'ws.yaml'))
  await gone
  t.equal((await httpGet(`${url}/live/`)).status, 404, 'new requests no longer route')
  ws.send('after')
  t.equal((await nextMessage(ws)).data.toString(), 'after', 'the open tunnel is not disturbed')
  ws.close()
})

t.test('an in-flight request finishes across a reload that deletes its route', async (t) => {
  const root = makeTempDir(t)
  const servicesDir = join(root, 'd')
  let release: () => void = () => {}
  let arrived: () => void = () => {}
  const reached = new Promise<void>((resolve) => { arrived = resolve })
  await startBackend(t, join(root, 'x', 'slow.sock'), (_req, res) => { release = () => res.end('done'); arrived() })
  writeRouteFile(servicesDir, 'r.yaml', `routes:\n  - prefix: /slow\n    socket: ${join(root, 'x', 'slow.sock')}\n`)
  const { router, url } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })
  const pending = httpGet(`${url}/slow/`)
  await reached
  const gone = waitForTable(router, (table) => !table.byKey.has('slow'), 1000, 'the route to go')
  rmSync(join(servicesDir, 'r.yaml'))
  await gone
  release()
  const res = await pending
  t.equal(res.status, 200)
  t.equal(res.text, 'done')
})

t.test('SIGHUP reloads services.d and the socket dir', async (t) => {
  const root = makeTempDir(t)
  await startBackend(t, join(root, 's', 'svc', 'a.sock'))
  writeRouteFile(join(root, 'd'), 'r.yaml', 'routes:\n  - prefix: /file\n    socket: svc/a.sock\n')
  const cli = startCli(t, ['--socket-dir', join(root, 's'), '--services-dir', join(root, 'd'), '--listen', '127.0.0.1:0'])
  const listening = await cli.waitForLine((l) => typeof l.address === 'string')
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  cli.child.kill('SIGHUP')
  await cli.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('SIGHUP: rescanning'))
  t.equal((await httpGet(`http://${String(listening.address)}/file/`)).status, 200, 'still serving the file route after the reload')
  t.equal(await cli.stop(), 0)
})

t.test('writes next to a missing services dir do not trigger rescans', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  await startBackend(t, join(socketDir, 'svc', 'a.sock'))
  // As in ~/hero/var: the services dir's parent holds busy files, such as logs.
  const { router } = await startTestRouter(t, { socketDir, servicesDir: join(root, 'services.d') })
  const { writeFileSync, appendFileSync } = await import('node:fs')
  let rescans = 0
  const original = router.discovery.rescan.bind(router.discovery)
  router.discovery.rescan = () => { rescans++; return original() }
  writeFileSync(join(root, 'access.log'), 'x\n')
  for (let i = 0; i < 20; i++) appendFileSync(join(root, 'access.log'), 'line\n')
  // The services dir appearing in that same parent is still noticed, and is the first rescan.
  const added = waitForTable(router, (table) => table.byKey.has('late'), 1000, 'the route file')
  writeRouteFile(join(root, 'services.d'), 'late.yaml', 'routes:\n  - prefix: /late\n    socket: svc/a.sock\n')
  await added
  t.ok(rescans <= 3, `log writes caused no rescans (${rescans} in all, from creating the services dir)`)
})
