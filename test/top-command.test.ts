import { createServer } from 'node:net'
import { once } from 'node:events'
import { join } from 'node:path'
import t from 'tap'
import { parseListenAddress } from '../src/listen/listen-address.js'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import { runCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startOnPty } from './helpers/text-cli.js'
import { DEADLINE_MS, withTimeout } from './helpers/wait-for.js'

// Issue #12, item 6: `sockrouter top` reads a running router's live feed and
// redraws in the terminal until q, then gives the terminal back.

const ENTER_ALT_SCREEN = '\u001b[?1049h'
const LEAVE_ALT_SCREEN = '\u001b[?1049l'

async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  return typeof address === 'object' && address !== null ? address.port : 0
}

t.test('top on a pseudo-terminal shows the routes, follows a new socket live, and q restores the screen', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { port, router } = await startTestRouter(t, { socketDir: dir })
  t.equal((await httpGet(`http://127.0.0.1:${port}/svc/ui/`)).status, 200)

  const top = startOnPty(t, ['top', '--listen', `127.0.0.1:${port}`])
  await top.waitFor(/\/svc\/ui\/ +\S+/)
  t.ok(top.output().includes(ENTER_ALT_SCREEN), 'drawn on the alternate screen')
  t.match(top.output(), /ROUTE +HEALTH +REQ\/S +ERR%/, 'a table with rates and errors fits 120 columns')
  t.match(top.output(), /svc\/ui\.sock/, 'the target')

  await startBackend(t, join(dir, 'late', 'ui.sock'))
  await top.waitFor(/\/late\/ui\//)

  // The router goes away: top says so on screen and keeps trying, it does not crash.
  await router.close()
  await top.waitFor(/lost the feed from 127\.0\.0\.1:\d+/)

  top.child.stdin?.write('q')
  t.equal(await withTimeout(top.exited, DEADLINE_MS, 'top to exit on q'), 0, 'q exits 0')
  t.ok(top.output().trimEnd().endsWith(LEAVE_ALT_SCREEN), 'the last thing written leaves the alternate screen')
  t.match(top.output(), /\u001b\[\?25h/, 'the cursor is shown again')
})

t.test('Ctrl-C quits top too, with the terminal restored', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const top = startOnPty(t, ['top', '--listen', `127.0.0.1:${port}`])
  await top.waitFor(/\/svc\/ui\//)
  top.child.stdin?.write('\u0003')
  t.equal(await withTimeout(top.exited, DEADLINE_MS, 'top to exit on Ctrl-C'), 0)
  t.ok(top.output().trimEnd().endsWith(LEAVE_ALT_SCREEN))
})

t.test('top against a router that is not running: one line and exit 1', async (t) => {
  const port = await freePort()
  const res = await runCli(['top', '--listen', `127.0.0.1:${port}`])
  t.equal(res.code, 1)
  t.equal(res.stderr, `sockrouter: no live feed on 127.0.0.1:${port} (connection refused); is the router running? Pass its --listen address.\n`)
  t.equal(res.stdout, '')
  const gone = await runCli(['top', '--listen', `unix:${join(makeTempDir(t), 'none.sock')}`])
  t.equal(gone.code, 1)
  t.match(gone.stderr, /^sockrouter: no live feed on unix:\S+none\.sock \(no such socket\); is the router running\? Pass its --listen address\.\n$/)
})

t.test('top through a unix listener, printed once when stdout is not a terminal', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 's', 'svc', 'ui.sock'))
  const listenPath = join(dir, 'router.sock')
  await startTestRouter(t, { socketDir: join(dir, 's'), listen: [parseListenAddress(`unix:${listenPath}`)] })
  const res = await runCli(['top', '--listen', `unix:${listenPath}`])
  t.equal(res.code, 0)
  t.match(res.stdout, /^sockrouter \S+ {2}ok {2}up /)
  t.match(res.stdout, /\/svc\/ui\/ +unknown|\/svc\/ui\/ +\w+ +0/)
  t.notMatch(res.stdout, /\u001b/, 'no escape sequences into a pipe')
})
