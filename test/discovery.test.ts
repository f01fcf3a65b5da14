import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeStaleSocket } from './helpers/stale-socket.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { hasRoute, startTestRouter, waitForTable } from './helpers/router.js'

t.test('a socket created while running is routable within 100 ms', async (t) => {
  const dir = makeTempDir(t)
  const { router, url, waitForLog } = await startTestRouter(t, { socketDir: dir })
  t.equal(router.store.current.routes.length, 0)
  const routed = waitForTable(router, hasRoute('/late/ui/'), 100, 'the new socket to be routed')
  const backend = await startBackend(t, join(dir, 'late', 'ui.sock'))
  await routed
  t.equal((await httpGet(`${url}/late/ui/hi`)).status, 200)
  t.same(backend.seen.map((r) => r.url), ['/hi'])
  t.match(await waitForLog((l) => l.change === 'added'), { msg: 'route added /late/ui/ -> late/ui.sock', prefix: '/late/ui/', socket: 'late/ui.sock' })
})

t.test('a removed socket stops routing within 300 ms', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'gone', 'ui.sock'))
  const { router, url, waitForLog } = await startTestRouter(t, { socketDir: dir })
  t.equal((await httpGet(`${url}/gone/ui/`)).status, 200)
  const removed = waitForTable(router, (table) => !hasRoute('/gone/ui/')(table), 300, 'the route to go')
  await backend.close()
  await removed
  t.equal((await httpGet(`${url}/gone/ui/`)).status, 404)
  t.match(await waitForLog((l) => l.change === 'removed'), { msg: 'route removed /gone/ui/' })
  t.equal(router.pools.poolCount, 0, 'the pool of the removed socket is closed')
})

t.test('a socket replaced by a new process routes to the new process', async (t) => {
  const dir = makeTempDir(t)
  const path = join(dir, 'svc', 'ui.sock')
  const first = await startBackend(t, path)
  const { router, url } = await startTestRouter(t, { socketDir: dir })
  await httpGet(`${url}/svc/ui/one`)
  const before = router.store.current.routes[0]?.upstream.origin
  await first.close()
  const back = waitForTable(router, (table) => table.routes[0] !== undefined && table.routes[0].upstream.origin !== before, 1000, 'the replaced socket')
  const second = await startBackend(t, path)
  await back
  t.equal((await httpGet(`${url}/svc/ui/two`)).status, 200)
  t.same(first.seen.map((r) => r.url), ['/one'])
  t.same(second.seen.map((r) => r.url), ['/two'])
  t.ok(router.pools.poolCount <= 1, 'no pool left behind for the dead process')
})

t.test('a stale socket (the service crashed) answers 502 fast', async (t) => {
  const dir = makeTempDir(t)
  mkdirSync(join(dir, 'dead'))
  await makeStaleSocket(join(dir, 'dead', 'ui.sock'))
  const { url } = await startTestRouter(t, { socketDir: dir })
  const started = process.hrtime.bigint()
  const res = await httpGet(`${url}/dead/ui/x`)
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  t.equal(res.status, 502)
  t.same(JSON.parse(res.text), { error: 'bad_gateway', message: 'The service refused the connection or went away.', service: 'dead' })
  t.ok(ms < 1000, `answered in ${ms.toFixed(1)} ms, not a hang`)
  t.notMatch(res.text, /ECONN|sock|\/tmp/, 'no errno or socket path in the body')
})

t.test('regular files, odd names and deep entries are ignored', async (t) => {
  const dir = makeTempDir(t)
  mkdirSync(join(dir, 'svc', 'sub'), { recursive: true })
  writeFileSync(join(dir, 'svc', 'x.sock'), 'not a socket')
  writeFileSync(join(dir, 'plain.sock'), 'not a socket')
  await startBackend(t, join(dir, 'svc', 'real.sock'))
  await startBackend(t, join(dir, 'svc', '.hidden.sock'))
  await startBackend(t, join(dir, 'svc', 'sub', 'deep.sock'))
  await startBackend(t, join(dir, 'svc', 'sp ace.sock'))
  await startBackend(t, join(dir, 'svc', 'noext'))
  const { router, logs } = await startTestRouter(t, { socketDir: dir })
  t.same(router.store.current.routes.map((r) => r.prefix), ['/svc/real/'])
  const ignored = logs.filter((l) => l.msg === 'ignored entry in socket directory').map((l) => l.socket).sort()
  t.same(ignored, ['plain.sock', 'svc/.hidden.sock', 'svc/noext', 'svc/sp ace.sock', 'svc/sub', 'svc/x.sock'])
})

t.test('a socket directory missing at start is created and then watched', async (t) => {
  const dir = join(makeTempDir(t), 'not', 'yet')
  const { router, url } = await startTestRouter(t, { socketDir: dir })
  const routed = waitForTable(router, hasRoute('/new/api/'), 1000, 'a socket in the created directory')
  await startBackend(t, join(dir, 'new', 'api.sock'))
  await routed
  t.equal((await httpGet(`${url}/new/api/`)).status, 200)
})

t.test('a whole service directory coming and going is followed', async (t) => {
  const dir = makeTempDir(t)
  const { router } = await startTestRouter(t, { socketDir: dir })
  const both = waitForTable(router, (table) => table.routes.length === 2, 1000, 'two routes')
  const a = await startBackend(t, join(dir, 'multi', 'a.sock'))
  const b = await startBackend(t, join(dir, 'multi', 'b.sock'))
  await both
  const none = waitForTable(router, (table) => table.routes.length === 0, 1000, 'no routes')
  await a.close()
  await b.close()
  await none
  t.pass('routes followed the directory')
})

t.test('SIGHUP-style rescan publishes nothing when nothing changed', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { router } = await startTestRouter(t, { socketDir: dir })
  let swaps = 0
  router.store.on('swap', () => swaps++)
  await router.rescan()
  await router.rescan()
  t.equal(swaps, 0, 'equal snapshots are dropped')
})

t.test('rapid create/remove cycles are never lost (chokidar throttles its own events)', async (t) => {
  const dir = makeTempDir(t)
  const { router, url } = await startTestRouter(t, { socketDir: dir })
  for (let round = 0; round < 20; round++) {
    const up = waitForTable(router, hasRoute('/fl/ui/'), 1000, `round ${round}: the socket to be routed`)
    const backend = await startBackend(t, join(dir, 'fl', 'ui.sock'))
    await up
    t.equal((await httpGet(`${url}/fl/ui/`)).status, 200)
    const down = waitForTable(router, (table) => !hasRoute('/fl/ui/')(table), 1000, `round ${round}: the route to go`)
    await backend.close()
    await down
  }
  t.equal((await httpGet(`${url}/fl/ui/`)).status, 404)
})
