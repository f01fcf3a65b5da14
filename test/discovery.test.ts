import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeStaleSocket } from './helpers/stale-socket.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { hasRoute, startTestRouter, waitForTable } from './helpers/router.js'
import { DEADLINE_MS, withTimeout } from './helpers/wait-for.js'

// How fast discovery reacts is the bench's discovery scenario; tests wait for the event with a generous deadline.
t.test('a socket created while running becomes routable', async (t) => {
  const dir = makeTempDir(t)
  const { router, url, waitForLog } = await startTestRouter(t, { socketDir: dir })
  t.equal(router.store.current.routes.length, 0)
  const routed = waitForTable(router, hasRoute('/late/ui/'), DEADLINE_MS, 'the new socket to be routed')
  const backend = await startBackend(t, join(dir, 'late', 'ui.sock'))
  await routed
  t.equal((await httpGet(`${url}/late/ui/hi`)).status, 200)
  t.same(backend.seen.map((r) => r.url), ['/hi'])
  t.match(await waitForLog((l) => l.change === 'added'), { msg: 'route added /late/ui/ -> late/ui.sock', prefix: '/late/ui/', socket: 'late/ui.sock' })
})

t.test('a removed socket stops routing', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'gone', 'ui.sock'))
  const { router, url, waitForLog } = await startTestRouter(t, { socketDir: dir })
  t.equal((await httpGet(`${url}/gone/ui/`)).status, 200)
  const removed = waitForTable(router, (table) => !hasRoute('/gone/ui/')(table), DEADLINE_MS, 'the route to go')
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
  const back = waitForTable(router, (table) => table.routes[0] !== undefined && table.routes[0].upstream.origin !== before, DEADLINE_MS, 'the replaced socket')
  const second = await startBackend(t, path)
  await back
  t.equal((await httpGet(`${url}/svc/ui/two`)).status, 200)
  t.same(first.seen.map((r) => r.url), ['/one'])
  t.same(second.seen.map((r) => r.url), ['/two'])
  t.ok(router.pools.poolCount <= 1, 'no pool left behind for the dead process')
})

t.test('a stale socket (the service crashed) answers 502, not a hang', async (t) => {
  const dir = makeTempDir(t)
  mkdirSync(join(dir, 'dead'))
  await makeStaleSocket(join(dir, 'dead', 'ui.sock'))
  // Timeouts far beyond the deadline below: only the refused connect itself can produce the answer in time.
  const { url } = await startTestRouter(t, { socketDir: dir, connectTimeoutMs: 10 * DEADLINE_MS, upstreamTimeoutMs: 10 * DEADLINE_MS })
  const res = await withTimeout(httpGet(`${url}/dead/ui/x`), DEADLINE_MS, 'the 502')
  t.equal(res.status, 502)
  t.same(JSON.parse(res.text), { error: 'bad_gateway', message: 'The service refused the connection or went away.', service: 'dead' })
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
  const routed = waitForTable(router, hasRoute('/new/api/'), DEADLINE_MS, 'a socket in the created directory')
  await startBackend(t, join(dir, 'new', 'api.sock'))
  await routed
  t.equal((await httpGet(`${url}/new/api/`)).status, 200)
})

t.test('a whole service directory coming and going is followed', async (t) => {
  const dir = makeTempDir(t)
  const { router } = await startTestRouter(t, { socketDir: dir })
  const both = waitForTable(router, (table) => table.routes.length === 2, DEADLINE_MS, 'two routes')
  const a = await startBackend(t, join(dir, 'multi', 'a.sock'))
  const b = await startBackend(t, join(dir, 'multi', 'b.sock'))
  await both
  const none = waitForTable(router, (table) => table.routes.length === 0, DEADLINE_MS, 'no routes')
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
    const up = waitForTable(router, hasRoute('/fl/ui/'), DEADLINE_MS, `round ${round}: the socket to be routed`)
    const backend = await startBackend(t, join(dir, 'fl', 'ui.sock'))
    await up
    t.equal((await httpGet(`${url}/fl/ui/`)).status, 200)
    const down = waitForTable(router, (table) => !hasRoute('/fl/ui/')(table), DEADLINE_MS, `round ${round}: the route to go`)
    await backend.close()
    await down
  }
  t.equal((await httpGet(`${url}/fl/ui/`)).status, 404)
})
