import { renameSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { DEADLINE_MS } from './helpers/wait-for.js'
import { startTestRouter, waitForTable } from './helpers/router.js'
import { startCli } from './helpers/run-cli.js'
import { writeRouteFile } from './helpers/services-dir.js'
import { nextMessage, openClient, startWsBackend } from './helpers/ws-backend.js'

// How fast a change lands is measured by the bench (discovery scenario); a test only waits for it, with a deadline.
t.test('a route file added, changed and removed takes effect', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'd')
  const a = await startBackend(t, join(socketDir, 'svc', 'a.sock'))
  const b = await startBackend(t, join(socketDir, 'svc', 'b.sock'))
  const { router, url } = await startTestRouter(t, { socketDir, servicesDir })

  const added = waitForTable(router, (table) => table.byKey.get('hot')?.upstream.label === 'svc/a.sock', DEADLINE_MS, 'the added route')
  writeRouteFile(servicesDir, 'hot.yaml', 'routes:\n  - prefix: /hot\n    socket: svc/a.sock\n')
  await added
  await httpGet(`${url}/hot/1`)

  const changed = waitForTable(router, (table) => table.byKey.get('hot')?.upstream.label === 'svc/b.sock', DEADLINE_MS, 'the changed route')
  writeRouteFile(servicesDir, 'hot.yaml', 'routes:\n  - prefix: /hot\n    socket: svc/b.sock\n')
  await changed
  await httpGet(`${url}/hot/2`)

  const removed = waitForTable(router, (table) => !table.byKey.has('hot'), DEADLINE_MS, 'the removed route')
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
  const added = waitForTable(router, (table) => table.byKey.has('late'), DEADLINE_MS, 'a route in the new directory')
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
  const gone = waitForTable(router, (table) => !table.byKey.has('live'), DEADLINE_MS, 'the route to go')
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
  const gone = waitForTable(router, (table) => !table.byKey.has('slow'), DEADLINE_MS, 'the route to go')
  rmSync(join(servicesDir, 'r.yaml'))
  await gone
  release()
  const res = await pending
  t.equal(res.status, 200)
  t.equal(res.text, 'done')
})

t.test('SIGHUP rescans services.d and the socket dir, picking up a change the watcher cannot see', async (t) => {
  const root = makeTempDir(t)
  const a = await startBackend(t, join(root, 's1', 'one', 'a.sock'))
  const b = await startBackend(t, join(root, 's2', 'two', 'b.sock'))
  writeRouteFile(join(root, 'd1'), 'r.yaml', 'routes:\n  - prefix: /file\n    socket: one/a.sock\n')
  writeRouteFile(join(root, 'd2'), 'r.yaml', 'routes:\n  - prefix: /moved\n    socket: two/b.sock\n')
  // Both directories are reached through symlinks, as in a release layout whose `current` link is swapped.
  symlinkSync('s1', join(root, 'sockets'))
  symlinkSync('d1', join(root, 'services'))
  // No health probes (issue #12): the backends' `seen` lists hold only the requests below.
  const cli = startCli(t, ['--socket-dir', join(root, 'sockets'), '--services-dir', join(root, 'services'), '--listen', '127.0.0.1:0', '--health-interval', '0'])
  const base = `http://${String((await cli.waitForLine((l) => typeof l.address === 'string')).address)}`
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  t.equal((await httpGet(`${base}/one/a/`)).status, 200, 'the discovered route before the swap')
  t.equal((await httpGet(`${base}/file/`)).status, 200, 'the file route before the swap')

  // Re-pointing a link above the watched directories changes nothing inside them, so no watch fires:
  // only a rescan can see the new targets.
  swapSymlink(join(root, 'sockets'), 's2')
  swapSymlink(join(root, 'services'), 'd2')
  cli.child.kill('SIGHUP')
  for (const [change, prefix] of [['added', '/two/b/'], ['added', '/moved/'], ['removed', '/one/a/'], ['removed', '/file/']]) {
    await cli.waitForLine((l) => l.change === change && l.prefix === prefix)
  }
  t.equal((await httpGet(`${base}/two/b/x`)).status, 200, 'the new socket dir is routed')
  t.equal((await httpGet(`${base}/moved/y`)).status, 200, 'the new services.d is in force')
  t.equal((await httpGet(`${base}/one/a/`)).status, 404)
  t.equal((await httpGet(`${base}/file/`)).status, 404)
  t.same(a.seen.map((r) => r.url), ['/', '/'])
  t.same(b.seen.map((r) => r.url), ['/x', '/y'])
  t.equal(await cli.stop(), 0)
})

/** Points `link` at `target` atomically: a new link renamed over the old one, as a deploy tool swaps `current`. */
function swapSymlink (link: string, target: string): void {
  const temp = `${link}.new`
  symlinkSync(target, temp)
  renameSync(temp, link)
}

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
  const added = waitForTable(router, (table) => table.byKey.has('late'), DEADLINE_MS, 'the route file')
  writeRouteFile(join(root, 'services.d'), 'late.yaml', 'routes:\n  - prefix: /late\n    socket: svc/a.sock\n')
  await added
  t.ok(rescans <= 3, `log writes caused no rescans (${rescans} in all, from creating the services dir)`)
})
