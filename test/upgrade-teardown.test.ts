import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { WebSocket } from 'ws'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { nextMessage, openClient, startWsBackend, withTimeout } from './helpers/ws-backend.js'

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

function closed (ws: WebSocket, timeoutMs: number): Promise<number> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve(0)
  return withTimeout(once(ws, 'close').then(([code]) => code as number), timeoutMs, 'the client to see the close')
}

t.test('a backend killed mid-tunnel: the client sees the close in under a second', async (t) => {
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
  const started = performance.now()
  backend.kill('SIGKILL')
  const code = await closed(ws, 1000)
  t.ok(performance.now() - started < 1000, `client saw close ${code} after ${(performance.now() - started).toFixed(0)} ms`)
  t.equal(code, 1006, 'an abnormal closure: no close frame came')
  await waitForLog((l) => l.msg === 'websocket tunnel closed')
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
  const backendClosed = once(ws, 'close')
  const started = performance.now()
  client.kill('SIGKILL')
  const [code] = await withTimeout(backendClosed, 2000, 'the backend to see the close') as [number]
  t.equal(code, 1006)
  t.ok(performance.now() - started < 1000, `backend saw it after ${(performance.now() - started).toFixed(0)} ms`)
  await waitForLog((l) => l.msg === 'websocket tunnel closed')
  t.equal(router.tunnels.registry.size, 0)
})

t.test('no descriptors are left once tunnels end from either side', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, router } = await startTestRouter(t, { socketDir: dir })
  // One tunnel first, so lazily opened descriptors (epoll, DNS, crypto) exist before the baseline.
  const warm = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  warm.close()
  await closed(warm, 2000)
  await waitFor(() => router.tunnels.registry.size === 0 && backend.clients.size === 0, 'the warm-up tunnel to close')
  const before = openFds()

  const clients: WebSocket[] = []
  for (let i = 0; i < 20; i++) clients.push(await openClient(`ws://127.0.0.1:${port}/svc/ws/`))
  t.equal(router.tunnels.registry.size, 20)
  t.ok(openFds() >= before + 60, 'each tunnel holds four descriptors in this process: client, router x2, backend')
  // Half end by the client (clean close, then abrupt), half by the backend.
  clients.slice(0, 5).forEach((ws) => ws.close(1000))
  clients.slice(5, 10).forEach((ws) => ws.terminate())
  const serverSide = [...backend.clients]
  serverSide.slice(10).forEach((ws) => ws.close(1001))
  await Promise.all(clients.slice(10).map((ws) => closed(ws, 5000)))
  for (const ws of backend.clients) ws.terminate()
  await waitFor(() => router.tunnels.registry.size === 0 && openFds() <= before, 'every descriptor to be released')
  t.equal(openFds(), before, `back to ${before} open descriptors`)
  t.equal(router.tunnels.stats.active, 0)
})

t.test('with --tunnel-idle-timeout a quiet tunnel is closed and a busy one is not', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, waitForLog } = await startTestRouter(t, { socketDir: dir, tunnelIdleTimeoutMs: 400 })
  const quiet = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  const busy = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  t.teardown(() => busy.terminate())
  const started = performance.now()
  const quietClosed = closed(quiet, 3000)
  const keepBusy = setInterval(() => busy.send('tick'), 100)
  t.teardown(() => clearInterval(keepBusy))
  await quietClosed
  const ms = performance.now() - started
  t.ok(ms >= 350 && ms < 2000, `quiet tunnel closed after ${ms.toFixed(0)} ms`)
  t.equal(busy.readyState, busy.OPEN, 'the busy tunnel is still open')
  const line = await waitForLog((l) => l.msg === 'websocket tunnel closed')
  t.equal(line.reason, 'idle')
})

/** Re-checks `condition` on a short interval until it holds; fails after `timeoutMs`. */
async function waitFor (condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
