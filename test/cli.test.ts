import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { occupyPort } from './helpers/listen-socket.js'
import { runCli, startCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'

const run = promisify(execFile)

t.test('an unknown flag is one clear line on stderr and exit 2', async (t) => {
  const res = await runCli(['--bogus'])
  t.equal(res.code, 2)
  t.equal(res.stderr, "sockrouter: unknown option --bogus; see 'sockrouter --help'\n", 'one line naming the flag and pointing to --help (issue #10)')
})

t.test('bad values are refused before anything starts', async (t) => {
  for (const args of [['--listen', 'nope:port'], ['--upstream-timeout', 'soon'], ['--log-level', 'loud'], ['frobnicate']]) {
    const res = await runCli(args)
    t.equal(res.code, 2, args.join(' '))
    t.match(res.stderr, /^sockrouter: /)
  }
})

t.test('--help lists every flag and --version prints the version', async (t) => {
  const help = await runCli(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /--socket-dir DIR/)
  t.match(help.stdout, /SOCKROUTER_LISTEN/)
  const version = await runCli(['--version'])
  t.equal(version.code, 0)
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
})

t.test('a port in use is one clear line and exit 1', async (t) => {
  const dir = makeTempDir(t)
  const port = await occupyPort(t)
  const res = await runCli(['--socket-dir', dir, '--listen', `127.0.0.1:${port}`, '--log-level', 'silent'])
  t.equal(res.code, 1)
  t.equal(res.stderr, `sockrouter: cannot listen on 127.0.0.1:${port}: address already in use\n`)
})

t.test('a socket dir that is not a directory is one clear line and exit 1', async (t) => {
  const file = join(makeTempDir(t), 'file')
  writeFileSync(file, 'x')
  const res = await runCli(['--socket-dir', file, '--listen', '127.0.0.1:0', '--log-level', 'silent'])
  t.equal(res.code, 1)
  t.equal(res.stderr, `sockrouter: cannot use socket directory ${file}: it is not a directory\n`)
})

t.test('listens on a unix socket that curl --unix-socket reaches, and removes it on exit', async (t) => {
  const dir = makeTempDir(t)
  const sockets = join(dir, 'sockets')
  await startBackend(t, join(sockets, 'svc', 'ui.sock'))
  const routerSocket = join(dir, 'router.sock')
  const cli = startCli(t, ['--socket-dir', sockets, '--listen', `unix:${routerSocket}`, '--listen', '127.0.0.1:0'])
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  const tcp = await cli.waitForLine((l) => typeof l.address === 'string' && /^127\.0\.0\.1:\d+$/.test(l.address))
  t.not(tcp.address, '127.0.0.1:0', 'port 0 is logged as the real port')
  const { stdout } = await run('curl', ['-s', '--unix-socket', routerSocket, 'http://x/svc/ui/hello?a=1'])
  t.equal((JSON.parse(stdout) as { url: string }).url, '/hello?a=1')
  const viaTcp = await httpGet(`http://${String(tcp.address)}/svc/ui/tcp`)
  t.equal(viaTcp.status, 200)
  t.equal(await cli.stop('SIGTERM'), 0)
  t.notOk(existsSync(routerSocket), 'the unix listener file is removed on exit')
})

t.test('env vars set the socket dir and the listen address', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'envsvc', 'api.sock'))
  const cli = startCli(t, [], { SOCKROUTER_SOCKET_DIR: dir, SOCKROUTER_LISTEN: '127.0.0.1:0', SOCKROUTER_LOG_LEVEL: 'info' })
  const line = await cli.waitForLine((l) => typeof l.address === 'string')
  const res = await httpGet(`http://${String(line.address)}/envsvc/api/`)
  t.equal(res.status, 200)
  t.equal(await cli.stop('SIGINT'), 0)
})

t.test('HERO_SOCKET_DIR is the fallback socket dir', async (t) => {
  const dir = makeTempDir(t)
  const cli = startCli(t, ['--listen', '127.0.0.1:0'], { SOCKROUTER_SOCKET_DIR: '', HERO_SOCKET_DIR: dir })
  t.match(await cli.waitForLine((l) => l.msg === 'sockrouter ready'), { socketDir: dir })
  await cli.stop()
})

t.test('a stale unix listener file from a crashed router is replaced', async (t) => {
  const dir = makeTempDir(t)
  const routerSocket = join(dir, 'r.sock')
  const { makeStaleSocket } = await import('./helpers/stale-socket.js')
  await makeStaleSocket(routerSocket)
  const cli = startCli(t, ['--socket-dir', join(dir, 's'), '--listen', `unix:${routerSocket}`])
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  const { stdout } = await run('curl', ['-s', '--unix-socket', routerSocket, 'http://x/_sockrouter/health'])
  t.match(JSON.parse(stdout), { status: 'ok' })
  await cli.stop()
})

t.test('the demo command serves the demo page through the router', async (t) => {
  const dir = makeTempDir(t)
  const cli = startCli(t, ['demo', '--socket-dir', dir, '--listen', '127.0.0.1:0'])
  const line = await cli.waitForLine((l) => typeof l.address === 'string')
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  const page = await httpGet(`http://${String(line.address)}/demo/ui/`)
  t.equal(page.status, 200)
  t.match(page.text, /this page came through sockrouter/)
  t.match(page.text, /const prefix = "\/demo\/ui"/)
  t.equal(await cli.stop(), 0)
})

t.test('SIGTERM still exits when the stdout reader has gone away', async (t) => {
  const dir = makeTempDir(t)
  const cli = startCli(t, ['--socket-dir', dir, '--listen', '127.0.0.1:0'])
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  // Like `sockrouter | head -2`: the pipe's reader closes, then the signal comes.
  cli.child.stdout.destroy()
  t.equal(await cli.stop('SIGTERM'), 0)
})

t.test('the lines logged while shutting down are written before the process exits', async (t) => {
  const dir = makeTempDir(t)
  const cli = startCli(t, ['--socket-dir', dir, '--listen', '127.0.0.1:0'])
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  const closed = once(cli.child, 'close')
  t.equal(await cli.stop('SIGTERM'), 0)
  await closed
  t.same(cli.lines.slice(-2).map((l) => l.msg), ['shutting down', 'stopped'])
})

t.test('a second demo refuses to take over a live demo socket', async (t) => {
  const dir = makeTempDir(t)
  const first = startCli(t, ['demo', '--socket-dir', dir, '--listen', '127.0.0.1:0'])
  const line = await first.waitForLine((l) => typeof l.address === 'string')
  await first.waitForLine((l) => l.msg === 'sockrouter ready')
  const second = await runCli(['demo', '--socket-dir', dir, '--listen', '127.0.0.1:0', '--log-level', 'silent'])
  t.equal(second.code, 1)
  t.match(second.stderr, /^sockrouter: cannot start the demo service: .*demo\/ui\.sock is in use/)
  t.ok(existsSync(join(dir, 'demo', 'ui.sock')), 'the live socket is still there')
  t.equal((await httpGet(`http://${String(line.address)}/demo/ui/`)).status, 200, 'the first demo still serves')
  await first.stop()
})
