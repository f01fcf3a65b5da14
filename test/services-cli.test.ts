import { execFile } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { startBackend, type Handler } from './helpers/backend.js'
import { runCli, startCli } from './helpers/run-cli.js'
import { tableRows as allTableRows } from './helpers/table-rows.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { writeRouteFile } from './helpers/services-dir.js'

/**
 * `sockrouter check` and `sockrouter routes` (issue #4), as a user runs them:
 * the real bin/sockrouter in a child process, real sockets, real curl.
 */

const exec = promisify(execFile)

interface Seen { backend: string, url: string, forwarded: boolean }

/** Says who it is, what path it saw and whether the request came through a proxy. */
function named (name: string): Handler {
  return (req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ backend: name, url: req.url, forwarded: req.headers['x-forwarded-proto'] !== undefined }))
    })
  }
}

async function startTcpBackend (t: Test, handler: Handler): Promise<{ server: Server, port: number }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { server, port: (server.address() as { port: number }).port }
}

/** The table's rows without the HEALTH column (test/health-agreement.test.ts checks that one). */
function tableRows (text: string): string[][] {
  return allTableRows(text).map((row) => row.slice(0, 4))
}

/**
 * A socket dir with one discovered service, and a services dir with a file
 * naming a socket outside the socket dir, a relative socket nobody listens
 * on yet, and a TCP URL.
 */
async function goodSetup (t: Test): Promise<{ root: string, socketDir: string, servicesDir: string, tcpPort: number }> {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'services.d')
  await startBackend(t, join(socketDir, 'disc', 'api.sock'), named('disc'))
  await startBackend(t, join(root, 'b', 'f.sock'), named('file'))
  const tcp = await startTcpBackend(t, named('tcp'))
  writeRouteFile(servicesDir, '10-app.yaml', [
    'routes:',
    '  - prefix: /file',
    `    socket: ${join(root, 'b', 'f.sock')}`,
    '  - prefix: /down',
    '    socket: later/x.sock',
    ''
  ].join('\n'))
  writeRouteFile(servicesDir, '20-tcp.json', JSON.stringify({ routes: [{ prefix: '/tcp', url: `http://127.0.0.1:${tcp.port}/base` }] }))
  return { root, socketDir, servicesDir, tcpPort: tcp.port }
}

t.test('check: a good setup exits 0 and prints prefix, target, source and status', async (t) => {
  const { root, socketDir, servicesDir, tcpPort } = await goodSetup(t)
  const res = await runCli(['check', '--socket-dir', socketDir, '--services-dir', servicesDir])
  t.equal(res.code, 0, res.stderr)
  t.equal(res.stderr, '', 'nothing on stderr')
  t.match(res.stdout, `socket dir:   ${socketDir}\n`)
  t.match(res.stdout, `services dir: ${servicesDir} (2 files)\n`)
  t.same(tableRows(res.stdout), [
    ['/disc/api/', join(socketDir, 'disc', 'api.sock'), 'discovered', 'up'],
    ['/down/', join(socketDir, 'later', 'x.sock'), 'services.d/10-app.yaml', 'down'],
    ['/file/', join(root, 'b', 'f.sock'), 'services.d/10-app.yaml', 'up'],
    ['/tcp/', `http://127.0.0.1:${tcpPort}/base`, 'services.d/20-tcp.json', 'up']
  ])
})

t.test('check: the services dir defaults to services.d next to the socket dir', async (t) => {
  const { socketDir, servicesDir } = await goodSetup(t)
  const res = await runCli(['check', '--socket-dir', socketDir], { SOCKROUTER_SERVICES_DIR: '' })
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, `services dir: ${servicesDir} (2 files)\n`)
  t.equal(tableRows(res.stdout).length, 4)
})

t.test('check: a bad file exits 1 with error lines naming file and field; the good routes are still listed', async (t) => {
  const { socketDir, servicesDir } = await goodSetup(t)
  writeRouteFile(servicesDir, '30-bad.yaml', [
    'routes:',
    '  - prefix: /chat',
    '    socket: chat.sock',
    '    stripPrefx: false',
    '    timeouts:',
    '      connect: 5 seconds',
    '  - prefix: /both',
    '    socket: both.sock',
    '    url: http://127.0.0.1:9',
    ''
  ].join('\n'))
  const res = await runCli(['check', '--socket-dir', socketDir, '--services-dir', servicesDir])
  t.equal(res.code, 1)
  t.same(res.stderr.split('\n').filter((l) => l !== ''), [
    'error: services.d/30-bad.yaml:4: routes[0].stripPrefx: unknown key (a typo?)',
    'error: services.d/30-bad.yaml:6: routes[0].timeouts.connect: must be a duration like "5s"',
    'error: services.d/30-bad.yaml:7: routes[1]: needs exactly one of "socket" and "url"'
  ])
  t.notMatch(res.stderr, /\n\s+at /, 'no stack trace')
  t.same(tableRows(res.stdout).map((r) => r[0]), ['/disc/api/', '/down/', '/file/', '/tcp/'], 'the rest of the table, without the bad file')
})

t.test('check: a syntax error and a duplicate prefix both exit 1', async (t) => {
  const { socketDir, servicesDir } = await goodSetup(t)
  writeRouteFile(servicesDir, '05-syntax.yml', 'routes:\n  - prefix: /s\n    socket: "unterminated\n')
  writeRouteFile(servicesDir, '30-dup.yaml', 'routes:\n  - prefix: /file\n    socket: other.sock\n')
  const res = await runCli(['check', '--socket-dir', socketDir, '--services-dir', servicesDir])
  t.equal(res.code, 1)
  const lines = res.stderr.split('\n').filter((l) => l !== '')
  t.equal(lines.length, 2, res.stderr)
  t.match(lines[0], /^error: services\.d\/05-syntax\.yml:\d+: Missing closing "quote$/)
  t.equal(lines[1], 'error: services.d/30-dup.yaml routes[0]: prefix /file/ is already declared by services.d/10-app.yaml')
  t.same(tableRows(res.stdout).find((r) => r[0] === '/file/')?.[2], 'services.d/10-app.yaml', 'the first file by name keeps /file')
})

t.test('check: an empty services dir, or none at all, is fine', async (t) => {
  const root = makeTempDir(t)
  const res = await runCli(['check', '--socket-dir', join(root, 's'), '--services-dir', join(root, 'nothing-here')])
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, /\(0 files\)\n\nno routes\n$/)
})

interface RouteBlock { prefix: string, direct: string, viaRouter: string }

/** The per-route blocks after the table: `/prefix/`, `  direct: …`, `  via router: …`. */
function routeBlocks (text: string): RouteBlock[] {
  const blocks: RouteBlock[] = []
  const re = /^(\/\S*)\n {2}direct: +(.+)\n {2}via router: +(.+)$/gm
  for (const m of text.matchAll(re)) blocks.push({ prefix: m[1] ?? '', direct: m[2] ?? '', viaRouter: m[3] ?? '' })
  return blocks
}

/** Runs a printed command exactly as a user pasting it into a shell would. */
async function shell (command: string): Promise<string> {
  const { stdout } = await exec('sh', ['-c', command], { timeout: 10_000 })
  return stdout
}

t.test('routes: prints the live table and curl commands that work, directly and through the router', async (t) => {
  const { root, socketDir, servicesDir, tcpPort } = await goodSetup(t)
  const routerSocket = join(root, 'r.sock')
  const cli = startCli(t, ['--socket-dir', socketDir, '--services-dir', servicesDir, '--listen', '127.0.0.1:0', '--listen', `unix:${routerSocket}`])
  const listening = await cli.waitForLine((l) => typeof l.msg === 'string' && /^listening on 127\.0\.0\.1:\d+$/.test(l.msg))
  const port = Number(/:(\d+)$/.exec(String(listening.msg))?.[1])
  t.ok(port > 0, `the router listens on port ${port}`)
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')

  const res = await runCli(['routes', '--listen', `127.0.0.1:${port}`])
  t.equal(res.code, 0, res.stderr)
  t.equal(res.stderr, '')
  t.same(tableRows(res.stdout), [
    ['/disc/api/', join(socketDir, 'disc', 'api.sock'), 'discovered', 'up'],
    ['/down/', join(socketDir, 'later', 'x.sock'), 'services.d/10-app.yaml', 'down'],
    ['/file/', join(root, 'b', 'f.sock'), 'services.d/10-app.yaml', 'up'],
    ['/tcp/', `http://127.0.0.1:${tcpPort}/base`, 'services.d/20-tcp.json', 'up']
  ])
  const blocks = routeBlocks(res.stdout)
  t.same(blocks, [
    { prefix: '/disc/api/', direct: `curl --unix-socket ${join(socketDir, 'disc', 'api.sock')} http://x/`, viaRouter: `curl http://127.0.0.1:${port}/disc/api/` },
    { prefix: '/down/', direct: `curl --unix-socket ${join(socketDir, 'later', 'x.sock')} http://x/`, viaRouter: `curl http://127.0.0.1:${port}/down/` },
    { prefix: '/file/', direct: `curl --unix-socket ${join(root, 'b', 'f.sock')} http://x/`, viaRouter: `curl http://127.0.0.1:${port}/file/` },
    { prefix: '/tcp/', direct: `curl http://127.0.0.1:${tcpPort}/base/`, viaRouter: `curl http://127.0.0.1:${port}/tcp/` }
  ])

  const byPrefix = new Map(blocks.map((b) => [b.prefix, b]))
  const direct = async (prefix: string): Promise<Seen> => JSON.parse(await shell(byPrefix.get(prefix)?.direct ?? 'false')) as Seen
  const via = async (prefix: string): Promise<string> => await shell(byPrefix.get(prefix)?.viaRouter ?? 'false')
  t.same(await direct('/file/'), { backend: 'file', url: '/', forwarded: false }, 'the direct command reaches the file route\'s socket, not through the router')
  t.same(await direct('/disc/api/'), { backend: 'disc', url: '/', forwarded: false }, 'and the discovered socket')
  t.same(await direct('/tcp/'), { backend: 'tcp', url: '/base/', forwarded: false }, 'and the TCP backend at its base path')
  t.same(JSON.parse(await via('/file/')), { backend: 'file', url: '/', forwarded: true }, 'the via-router command goes through the router')
  t.same(JSON.parse(await via('/tcp/')), { backend: 'tcp', url: '/base/', forwarded: true })
  t.match(JSON.parse(await via('/down/')), { error: 'service_unavailable' }, 'a down route answers 503 through the router')

  // The same router asked on its unix listener prints unix-socket curl commands for the router side.
  const overUnix = await runCli(['routes', '--listen', `unix:${routerSocket}`])
  t.equal(overUnix.code, 0, overUnix.stderr)
  const fileBlock = routeBlocks(overUnix.stdout).find((b) => b.prefix === '/file/')
  t.equal(fileBlock?.viaRouter, `curl --unix-socket ${routerSocket} http://x/file/`)
  t.same(JSON.parse(await shell(fileBlock?.viaRouter ?? 'false')), { backend: 'file', url: '/', forwarded: true })

  t.equal(await cli.stop(), 0)
})

t.test('routes: nothing listening is exit 1 and one clear line', async (t) => {
  const probe = createNetServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as { port: number }).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  const res = await runCli(['routes', '--listen', `127.0.0.1:${port}`])
  t.equal(res.code, 1)
  t.equal(res.stdout, '')
  const lines = res.stderr.split('\n').filter((l) => l !== '')
  t.equal(lines.length, 1, 'one line')
  t.match(lines[0], new RegExp(`^sockrouter: no router answered on 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\); is it running\\? Pass its --listen address\\.$`))
  t.notMatch(res.stderr, /\n\s+at /, 'no stack trace')
})
