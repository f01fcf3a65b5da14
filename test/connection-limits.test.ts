import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import t from 'tap'
import type { WebSocket } from 'ws'
import { parseOptions } from '../src/cli/parse-options.js'
import { maxConnectionsFor, readOpenFileLimit } from '../src/listen/open-file-limit.js'
import { startBackend } from './helpers/backend.js'
import { withoutChildCoverage } from './helpers/child-coverage.js'
import { httpGet, statusOf } from './helpers/http-client.js'
import { BIN } from './helpers/run-cli.js'
import { eventually, openRawClient, type RawClient } from './helpers/raw-socket.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { handshakeHead, openClient, startWsBackend } from './helpers/ws-backend.js'

/** Issue #10, defect 8: slowloris connections used every fd; now a cap in total and per client IP answers 503. */

const HALF_HEAD = 'GET /svc/a/ HTTP/1.1\r\nHost: 127.0.0.1\r\n'
const FULL_GET = 'GET /svc/a/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'

/** A connection that holds its slot the slowloris way: half a request head, never finished. */
async function holdSlot (t: { teardown (fn: () => unknown): void }, port: number, localAddress?: string): Promise<RawClient> {
  const client = await openRawClient(port, localAddress)
  t.teardown(() => client.socket.destroy())
  client.socket.write(HALF_HEAD)
  return client
}

async function refusal (port: number, localAddress?: string): Promise<string> {
  const client = await openRawClient(port, localAddress)
  client.socket.write(FULL_GET)
  return await client.closed(5000)
}

t.test('past --max-connections a connection gets a raw 503 with Retry-After and is closed; its request never reaches a backend', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'svc', 'a.sock'))
  const { port, router } = await startTestRouter(t, { socketDir: dir, maxConnections: 2, logLevel: 'warn' })
  const held = [await holdSlot(t, port), await holdSlot(t, port)]
  await eventually(() => router.connections.open === 2, 5000, 'two admitted connections')

  const raw = await refusal(port)
  t.equal(statusOf(raw), 503)
  t.match(raw, /\r\nRetry-After: 5\r\n/)
  t.match(raw, /\r\nConnection: close\r\n/i)
  t.match(raw, /"error":"service_unavailable"/)
  t.equal(backend.seen.length, 0, 'the refused request was never parsed, let alone forwarded')
  t.equal(router.connections.refused, 1)

  held[0]?.socket.destroy()
  await eventually(() => router.connections.open < 2, 5000, 'the freed slot')
  t.equal((await httpGet(`http://127.0.0.1:${port}/svc/a/`)).status, 200, 'a freed slot serves again')
})

t.test('past --max-connections-per-ip one client IP is refused while another is served', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'a.sock'))
  const { port, router } = await startTestRouter(t, { socketDir: dir, maxConnectionsPerIp: 2, logLevel: 'warn' })
  await holdSlot(t, port, '127.0.0.2')
  await holdSlot(t, port, '127.0.0.2')
  await eventually(() => router.connections.open === 2, 5000, 'two admitted connections')

  t.equal(statusOf(await refusal(port, '127.0.0.2')), 503, 'a third from 127.0.0.2 is refused')
  t.equal(statusOf(await refusal(port, '127.0.0.3')), 200, 'another address is served')
  t.equal((await httpGet(`http://127.0.0.1:${port}/svc/a/`)).status, 200, '127.0.0.1 is served')
})

t.test('WebSocket tunnels hold connection slots; --max-tunnels still refuses on its own below the connection cap', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, router } = await startTestRouter(t, { socketDir: dir, maxConnections: 3, maxTunnels: 2, logLevel: 'warn' })
  const tunnels: WebSocket[] = [await openClient(`ws://127.0.0.1:${port}/svc/ws/`), await openClient(`ws://127.0.0.1:${port}/svc/ws/`)]
  t.teardown(() => tunnels.forEach((ws) => ws.terminate()))

  const overTunnels = await openRawClient(port)
  overTunnels.socket.write(handshakeHead('/svc/ws/', port))
  const raw = await overTunnels.closed(5000)
  t.equal(statusOf(raw), 503)
  t.match(raw, /Too many open WebSocket connections/, 'the tunnel limit answers, with its own message')

  await eventually(() => router.connections.open === 2, 5000, 'the refused handshake to leave')
  await holdSlot(t, port)
  await eventually(() => router.connections.open === 3, 5000, 'the third slot taken')
  const overConnections = await refusal(port)
  t.equal(statusOf(overConnections), 503)
  t.match(overConnections, /Too many open connections/, 'two tunnels and one request fill three connection slots')

  const gone = new Promise((resolve) => tunnels[0]?.once('close', resolve))
  tunnels[0]?.close()
  await gone
  await eventually(() => router.connections.open === 2, 5000, 'the closed tunnel to free its slot')
})

t.test('a unix listener\'s clients count towards the total only', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'a.sock'))
  const socketPath = join(dir, 'router.sock')
  const { router } = await startTestRouter(t, { socketDir: dir, maxConnectionsPerIp: 1, listen: [{ kind: 'unix', path: socketPath }], logLevel: 'warn' })
  const results = await Promise.all([1, 2, 3].map(() => httpGet('http://localhost/svc/a/', { socketPath })))
  t.same(results.map((r) => r.status), [200, 200, 200], 'no per-IP limit without an IP')
  t.equal(router.connections.refused, 0)
})

t.test('the default cap leaves fds for 503s: half of RLIMIT_NOFILE minus a 5% reserve', async (t) => {
  t.equal(readOpenFileLimit('Limit                     Soft Limit           Hard Limit           Units     \nMax open files            20000                20000                files     \n'), 20000)
  t.equal(readOpenFileLimit('Max open files            unlimited            unlimited            files\n'), 1_048_576)
  t.equal(readOpenFileLimit('nothing here'), null)
  t.equal(maxConnectionsFor(20000), 9500)
  t.equal(maxConnectionsFor(1024), 480)
  t.equal(maxConnectionsFor(null), 480, 'an unreadable limit is taken as 1024')

  const dir = makeTempDir(t)
  const { router } = await startTestRouter(t, { socketDir: dir, logLevel: 'warn' })
  t.equal(router.connections.limits.maxConnections, maxConnectionsFor(readOpenFileLimit()), 'the router derives its cap from its own fd limit')
  t.equal(router.connections.limits.maxConnectionsPerIp, 1000)
})

t.test('--max-connections and --max-connections-per-ip come from flags and env vars', async (t) => {
  t.equal(parseOptions([]).maxConnections, undefined, 'left to the fd limit by default')
  t.equal(parseOptions(['--max-connections', '500']).maxConnections, 500)
  t.equal(parseOptions([], { SOCKROUTER_MAX_CONNECTIONS: '700' }).maxConnections, 700)
  t.equal(parseOptions(['--max-connections-per-ip', '20']).maxConnectionsPerIp, 20)
  t.equal(parseOptions([], { SOCKROUTER_MAX_CONNECTIONS_PER_IP: '30' }).maxConnectionsPerIp, 30)
  t.throws(() => parseOptions(['--max-connections', '0']), /--max-connections: "0" is not a whole number of at least 1/)
})

t.test('at a low fd limit the derived cap refuses with 503 before the fds run out, and the router keeps serving', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'a.sock'))
  // 256 fds: the derived cap is (256 - 64) / 2 = 96 connections.
  const child = spawn('bash', ['-c', 'ulimit -n 256 && exec "$0" "$@"', process.execPath, BIN, '--socket-dir', dir, '--listen', '127.0.0.1:0', '--log-level', 'info'], {
    env: withoutChildCoverage()
  })
  const exited = once(child, 'exit')
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  child.stderr.resume()
  let out = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 20 s: ${out}`)), 20_000)
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(out)
      if (match !== null) { clearTimeout(timer); resolve(Number(match[1])) }
    })
  })
  const held: RawClient[] = []
  t.teardown(() => held.forEach((c) => c.socket.destroy()))
  for (let i = 0; i < 250; i += 50) {
    held.push(...await Promise.all(Array.from({ length: 50 }, async () => await holdSlot(t, port))))
  }
  const answers = await Promise.all(held.map(async (c) => await c.waitFor(/^HTTP\/1\.1 503/, 1000).catch(() => c.received())))
  const refused = answers.filter((raw) => statusOf(raw) === 503).length
  t.ok(refused >= 250 - 96 - 16, `${refused} of 250 connections were refused with 503`)
  t.equal(child.exitCode, null, 'the router is still running')
  for (const c of held) c.socket.destroy()
  const deadline = performance.now() + 10_000
  let status = 0
  while (status !== 200 && performance.now() < deadline) {
    status = await httpGet(`http://127.0.0.1:${port}/svc/a/`).then((r) => r.status, () => 0)
  }
  t.equal(status, 200, 'once they are gone, requests are served again')
  t.match(out, /connection limit reached/, 'the refusals were logged')
})
