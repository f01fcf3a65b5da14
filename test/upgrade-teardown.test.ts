import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { WebSocket } from 'ws'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { DEADLINE_MS, withTimeout } from './helpers/wait-for.js'
import { nextMessage, openClient, startWsBackend } from './helpers/ws-backend.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

interface Teardown { teardown (fn: () => unknown): void }

/** Runs a small node program from the project root (so it can require `ws`) and waits for it to print `up`. */
async function spawnNode (t: Teardown, script: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let out = ''
  await withTimeout(new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('up')) resolve() })
    child.once('exit', () => reject(new Error(`child exited early: ${out}`)))
  }), 10_000, 'the child to start')
  return child
}

function openFds (): number {
  return readdirSync('/proc/self/fd').length
}

/** Resolves with the close code once `ws` has closed, its socket included. */
function closed (ws: WebSocket, timeoutMs = DEADLINE_MS): Promise<number> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve(0)
  return withTimeout(once(ws, 'close').then(([code]) => code as number), timeoutMs, 'the WebSocket to close')
}

const tunnelClosed = (l: Record<string, unknown>): boolean => l.msg === 'websocket tunnel closed'

// How fast a peer's death reaches the other side is a latency figure for the
// bench; here the close must come at all, and within a generous deadline
// (tunnels have no idle timeout by default, so nothing else would end them).
t.test('a backend killed mid-tunnel: the client sees an abnormal close', async (t) => {
  const dir = makeTempDir(t)
  const socketPath = join(dir, 'svc', 'ws.sock')
  const backend = await spawnNode(t, `
    const { mkdirSync } = require('node:fs'); const path = require('node:path')
    mkdirSync(path.dirname(${JSON.stringify(socketPath)}), { recursive: true })
    const { WebSocketServer } = require('ws')
    const wss = new WebSocketServer({ noServer: true })
    const server = require('node:http').createServer()
    server.on('upgrade', (req, s, h) => wss.handleUpgrade(req, s, h, (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b }))))
    server.listen(${JSON.stringify(socketPath)}, () => process.stdout.write('up'))`)
  const { port, router, waitForLog } = await startTestRouter(t, { socketDir: dir })
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  ws.on('error', () => {})
  ws.send('ping')
  t.equal((await nextMessage(ws)).data.toString(), 'ping', 'the tunnel works before the kill')
  backend.kill('SIGKILL')
  t.equal(await closed(ws), 1006, 'an abnormal closure: no close frame came')
  await waitForLog(tunnelClosed)
  t.equal(router.tunnels.registry.size, 0)
})

t.test('a client killed mid-tunnel: the backend sees the connection go', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, router, waitForLog } = await startTestRouter(t, { socketDir: dir })
  const serverSide = backend.nextConnection()
  const client = await spawnNode(t, `
    const ws = new (require('ws').WebSocket)('ws://127.0.0.1:${port}/svc/ws/')
    ws.on('message', () => process.stdout.write('up'))
    ws.on('open', () => ws.send('hi'))`)
  const ws = await serverSide
  client.kill('SIGKILL')
  t.equal(await closed(ws), 1006)
  await waitForLog(tunnelClosed)
  t.equal(router.tunnels.registry.size, 0)
})

t.test('no descriptors are left once tunnels end from either side', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, router, waitForLogs } = await startTestRouter(t, { socketDir: dir })
  // One tunnel first, so lazily opened descriptors (epoll, DNS, crypto) exist before the baseline.
  const warmServerSide = backend.nextConnection()
  const warm = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  const warmServerClosed = closed(await warmServerSide)
  warm.close()
  await closed(warm)
  await warmServerClosed
  // Logged once both of the router's sockets have closed, which is when their descriptors are gone.
  await waitForLogs(tunnelClosed, 1)
  const before = openFds()

  const clients: WebSocket[] = []
  for (let i = 0; i < 20; i++) clients.push(await openClient(`ws://127.0.0.1:${port}/svc/ws/`))
  t.equal(router.tunnels.registry.size, 20)
  t.ok(openFds() >= before + 60, 'each tunnel holds four descriptors in this process: client, router x2, backend')
  const serverSide = [...backend.clients]
  t.equal(serverSide.length, 20)
  const allClosed = Promise.all([...clients, ...serverSide].map((ws) => closed(ws)))
  // Half end by the client (clean close, then abrupt), half by the backend.
  clients.slice(0, 5).forEach((ws) => ws.close(1000))
  clients.slice(5, 10).forEach((ws) => ws.terminate())
  serverSide.slice(10).forEach((ws) => ws.close(1001))
  await Promise.all(clients.slice(10).map((ws) => closed(ws)))
  for (const ws of backend.clients) ws.terminate()
  await allClosed
  await waitForLogs(tunnelClosed, 21)
  t.equal(router.tunnels.registry.size, 0)
  t.equal(openFds(), before, `back to ${before} open descriptors`)
  t.equal(router.tunnels.stats.active, 0)
})

t.test('with --tunnel-idle-timeout a quiet tunnel is closed and a busy one is not', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  // Traffic every 100 ms against a 1 s timeout: a busy tunnel stays busy even on a loaded machine.
  const { port, waitForLogs } = await startTestRouter(t, { socketDir: dir, tunnelIdleTimeoutMs: 1000 })
  const busy = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  t.teardown(() => busy.terminate())
  const keepBusy = setInterval(() => busy.send('tick'), 100)
  t.teardown(() => clearInterval(keepBusy))
  // The busy tunnel's idle timer started first: once the quiet one's has fired, the busy one has lived through a whole timeout.
  const quiet = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  t.equal(await closed(quiet), 1006, 'the quiet tunnel was cut')
  const [line] = await waitForLogs(tunnelClosed, 1)
  t.equal(line?.reason, 'idle', 'by the idle timeout')
  t.equal(busy.readyState, busy.OPEN, 'the busy tunnel is still open')
  busy.send('still there')
  t.ok((await nextMessage(busy)).data.length > 0, 'and still echoes')
})
