import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { startProcess, type RunningCli } from './helpers/run-cli.js'
import { writeRouteFile } from './helpers/services-dir.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { makeTestCert } from './helpers/tls-cert.js'
import { openH2 } from './helpers/h2-client.js'
import { extendedConnect } from './helpers/h2-connect.js'
import { maskedFrame, readFrame } from './helpers/ws-frames.js'
import { nextMessage, openClient, startWsBackend } from './helpers/ws-backend.js'

/**
 * The single binary (issue #11), as a user runs it: copied alone into a temp
 * dir with no node_modules and no source tree, started with an empty PATH
 * and nothing else in its environment. .ci/run builds dist/sockrouter and
 * points SOCKROUTER_TEST_BINARY at it; under CI an unset variable fails here.
 */

const BUILT = process.env.SOCKROUTER_TEST_BINARY ?? ''
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
const run = promisify(execFile)

/** The binary's whole environment: no PATH, no NODE_OPTIONS from tap, nothing. */
const BARE_ENV = { PATH: '' }

function install (t: Test): { home: string, binary: string } {
  const home = makeTempDir(t)
  const binary = join(home, 'sockrouter')
  copyFileSync(BUILT, binary)
  chmodSync(binary, 0o755)
  return { home, binary }
}

function startBinary (t: Test, binary: string, home: string, args: readonly string[]): RunningCli {
  return startProcess(t, binary, args, { env: BARE_ENV, cwd: home })
}

async function listening (cli: RunningCli): Promise<string> {
  const line = await cli.waitForLine((l) => typeof l.address === 'string' && /^127\.0\.0\.1:\d+$/.test(l.address), 30_000)
  await cli.waitForLine((l) => l.msg === 'sockrouter ready', 30_000)
  return String(line.address)
}

if (BUILT === '') {
  if (process.env.CI === 'true') t.fail('SOCKROUTER_TEST_BINARY is unset: .ci/run must build dist/sockrouter and set it')
  else t.plan(0, 'SOCKROUTER_TEST_BINARY is unset: run `npm run build:binary` and `SOCKROUTER_TEST_BINARY=$PWD/dist/sockrouter npx tap test/binary-smoke.test.ts`')
} else {
  t.test('--version with an empty PATH prints the version and the Node inside', async (t) => {
    const { home, binary } = install(t)
    const { stdout } = await run(binary, ['--version'], { env: BARE_ENV, cwd: home })
    t.match(stdout, new RegExp(`^${VERSION.replace(/\./g, '\\.')} \\(node v(24|26)\\.\\d+\\.\\d+\\)\\n$`))
  })

  t.test('routes HTTP, WebSocket and a services.d route from a dir with no node_modules, then exits 0 on SIGTERM', async (t) => {
    const { home, binary } = install(t)
    const sockets = join(home, 'sockets')
    const services = join(home, 'services.d')
    await startBackend(t, join(sockets, 'svc', 'ui.sock'))
    await startWsBackend(t, join(sockets, 'svc', 'ws.sock'))
    writeRouteFile(services, 'api.yaml', 'routes:\n  - prefix: /api\n    socket: svc/ui.sock\n    rewrite: /v1/\n')
    const cli = startBinary(t, binary, home, ['--socket-dir', sockets, '--services-dir', services, '--listen', '127.0.0.1:0'])
    const address = await listening(cli)
    t.notOk(existsSync(join(home, 'node_modules')), 'nothing but the binary beside it')
    t.equal(readlinkSync(`/proc/${cli.child.pid}/exe`), binary, '/proc/<pid>/exe is the binary itself')

    const res = await httpGet(`http://${address}/svc/ui/hello?a=1`)
    t.equal(res.status, 200)
    t.equal((JSON.parse(res.text) as { url: string }).url, '/hello?a=1')

    const ws = await openClient(`ws://${address}/svc/ws/echo`)
    t.teardown(() => ws.terminate())
    ws.send('through the binary')
    t.equal((await nextMessage(ws)).data.toString(), 'through the binary')
    ws.close()

    const viaFile = await httpGet(`http://${address}/api/x`)
    t.equal(viaFile.status, 200, 'the services.d route answers')
    t.equal((JSON.parse(viaFile.text) as { url: string }).url, '/v1/x')

    t.equal(await cli.stop('SIGTERM'), 0)
    t.same(cli.lines.slice(-2).map((l) => l.msg), ['shutting down', 'stopped'])
  })

  t.test('serves HTTP/2 and HTTP/1.1 on an https:// listener, and RFC 8441 WebSockets, on the Node inside (issue #13)', async (t) => {
    const { home, binary } = install(t)
    const sockets = join(home, 'sockets')
    await startBackend(t, join(sockets, 'svc', 'ui.sock'))
    await startWsBackend(t, join(sockets, 'svc', 'ws.sock'))
    const cert = await makeTestCert(home)
    const cli = startBinary(t, binary, home, ['--socket-dir', sockets, '--listen', 'https://127.0.0.1:0', '--tls-cert', cert.certFile, '--tls-key', cert.keyFile])
    const line = await cli.waitForLine((l) => typeof l.address === 'string' && /^https:\/\/127\.0\.0\.1:\d+$/.test(l.address), 30_000)
    await cli.waitForLine((l) => l.msg === 'sockrouter ready', 30_000)
    const origin = String(line.address)
    for (const [flag, version] of [['--http2', '2'], ['--http1.1', '1.1']] as const) {
      const { stdout } = await run('curl', ['-sS', flag, '--cacert', cert.certFile, '-o', '/dev/null', '-w', '%{http_code} %{http_version}', `${origin}/svc/ui/x`])
      t.equal(stdout, `200 ${version}`, `${flag} through the binary`)
    }
    const session = await openH2(t, origin, cert.cert)
    const tunnel = await extendedConnect(session, '/svc/ws/', origin.slice('https://'.length))
    t.equal(tunnel.status, 200, 'the extended CONNECT is answered 200')
    tunnel.stream.write(maskedFrame('over RFC 8441'))
    t.equal((await readFrame(tunnel.stream)).payload.toString(), 'over RFC 8441', 'the echo came back')
    tunnel.stream.close()
    t.equal(await cli.stop('SIGTERM'), 0)
  })

  t.test('--workers 2 serves a routed 200 and a WebSocket echo: workers re-run the binary itself (issue #14)', async (t) => {
    const { home, binary } = install(t)
    const sockets = join(home, 'sockets')
    await startBackend(t, join(sockets, 'svc', 'ui.sock'))
    await startWsBackend(t, join(sockets, 'svc', 'ws.sock'))
    const cli = startBinary(t, binary, home, ['--workers', '2', '--socket-dir', sockets, '--listen', '127.0.0.1:0'])
    const ready = await cli.waitForLine((l) => l.msg === 'sockrouter ready', 30_000)
    t.same(Object.keys(ready.pids as object).sort(), ['1', '2'], 'two workers')
    const address = String((await cli.waitForLine((l) => typeof l.worker === 'number' && typeof l.address === 'string')).address)
    const workerPid = (ready.pids as Record<string, number>)['1'] as number
    t.equal(readlinkSync(`/proc/${workerPid}/exe`), binary, 'a worker is the binary too')

    const res = await httpGet(`http://${address}/svc/ui/hello`)
    t.equal(res.status, 200)
    const ws = await openClient(`ws://${address}/svc/ws/echo`)
    t.teardown(() => ws.terminate())
    ws.send('through a worker of the binary')
    t.equal((await nextMessage(ws)).data.toString(), 'through a worker of the binary')
    ws.close()
    t.equal(await cli.stop('SIGTERM'), 0)
  })

  t.test('check validates the socket dir and services.d and prints the table', async (t) => {
    const { home, binary } = install(t)
    const sockets = join(home, 'sockets')
    mkdirSync(sockets)
    writeRouteFile(join(home, 'services.d'), 'api.yaml', 'routes:\n  - prefix: /api\n    socket: svc/ui.sock\n')
    await startBackend(t, join(sockets, 'svc', 'ui.sock'))
    const { stdout } = await run(binary, ['check', '--socket-dir', sockets, '--services-dir', join(home, 'services.d')], { env: BARE_ENV, cwd: home })
    t.match(stdout, /\/api\/\s+\S*svc\/ui\.sock\s+services\.d\/api\.yaml\s+up/)
  })

  t.test('demo serves the demo page and its baked-in services.d route', async (t) => {
    const { home, binary } = install(t)
    const cli = startBinary(t, binary, home, ['demo', '--socket-dir', join(home, 'sockets'), '--listen', '127.0.0.1:0'])
    const address = await listening(cli)
    const page = await httpGet(`http://${address}/demo/ui/`)
    t.equal(page.status, 200)
    t.match(page.text, /this page came through sockrouter/)
    const api = await httpGet(`http://${address}/demo-api/info`)
    t.equal(api.status, 200, '/demo-api/ comes from the demo.yaml built into the binary')
    t.equal(api.headers['cache-control'], 'no-store')
    t.equal(await cli.stop('SIGTERM'), 0)
  })

  t.test('logs are pretty on a TTY, in-process', async (t) => {
    const { home, binary } = install(t)
    // script(1) gives the router a pseudo-terminal; the shell says which pid to stop.
    const inner = `env -i PATH= ${binary} --socket-dir ${join(home, 'sockets')} --listen 127.0.0.1:0 & echo "PID=$!"; wait`
    const child = spawn('script', ['-qfec', inner, '/dev/null'], { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] })
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
    let output = ''
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no pretty "sockrouter ready" within 30 s: ${output}`)), 30_000)
      child.stdout.on('data', (c: Buffer) => {
        output += c.toString()
        if (/INFO.*sockrouter ready/.test(output) && /PID=\d+/.test(output)) { clearTimeout(timer); resolve() }
      })
    })
    await ready
    t.notMatch(output, /"msg":/, 'no JSON lines')
    t.match(output, /\u001b\[\d+m/, 'colours')
    const exited = once(child, 'exit')
    process.kill(Number(/PID=(\d+)/.exec(output)?.[1]), 'SIGTERM')
    await exited
    t.match(output, /shutting down/)
  })
}
