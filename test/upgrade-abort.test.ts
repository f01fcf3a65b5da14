import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { rawExchange, statusOf } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import type { RunningRouter } from '../src/start-router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { handshakeHead, openClient, startRawBackend, startWsBackend, withTimeout, type RawBackend } from './helpers/ws-backend.js'

// Far beyond every deadline below: a slot still held at that point is held until this timeout.
const HANDSHAKE_TIMEOUT_MS = 60_000

/** Resolves once the backend has received the handshake on its `index`-th connection. */
function handshakeAtBackend (backend: RawBackend, index: number): Promise<void> {
  return withTimeout(new Promise<void>((resolve) => {
    const check = (): void => {
      const conn = backend.connections[index]
      if (conn?.received.includes('\r\n\r\n') === true) resolve()
      else if (conn !== undefined) conn.socket.once('data', () => setImmediate(check))
      else backend.server.once('connection', () => setImmediate(check))
    }
    check()
  }), 5000, 'the handshake at the backend')
}

/** Event-free state (the registry's count), checked each turn of the loop until the deadline. */
function slotsFreed (router: RunningRouter, deadlineMs = 5000): Promise<void> {
  const until = performance.now() + deadlineMs
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (router.tunnels.registry.size === 0) resolve()
      else if (performance.now() > until) reject(new Error(`${router.tunnels.registry.size} tunnel slot(s) still held after ${deadlineMs} ms`))
      else setTimeout(check, 10)
    }
    check()
  })
}

for (const c of [
  { how: 'closes its side (FIN)', abort: (s: Socket) => s.end() },
  { how: 'resets the connection (RST)', abort: (s: Socket) => s.resetAndDestroy() }
]) {
  t.test(`a client that ${c.how} during a pending handshake frees its tunnel slot and backend connection at once`, async (t) => {
    const dir = makeTempDir(t)
    const backend = await startRawBackend(t, join(dir, 'svc', 'ws.sock'), () => null)
    const { port, router, waitForLog } = await startTestRouter(t, { socketDir: dir, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, maxTunnelsPerIp: 1 })
    const client = connect(port, '127.0.0.1')
    client.on('error', () => {})
    t.teardown(() => client.destroy())
    client.write(handshakeHead('/svc/ws/', port))
    await handshakeAtBackend(backend, 0)
    t.equal(router.tunnels.registry.size, 1, 'the pending handshake holds a slot')

    c.abort(client)
    const backendSide = backend.connections[0]?.socket
    await withTimeout(new Promise<void>((resolve) => { if (backendSide?.destroyed === true) resolve(); else backendSide?.once('close', () => resolve()) }), 5000, 'the backend connection to close')
    await slotsFreed(router)
    t.pass('the slot is free long before the handshake timeout')
    const line = await waitForLog((l) => l.msg === 'websocket handshake failed')
    t.equal(line.error, 'client_closed', 'logged as the client leaving, not a backend failure')

    // The per-IP limit is 1: a new handshake is admitted only if the slot really was released.
    const raw = await rawExchange(port, handshakeHead('/svc/ws/', port), 300)
    t.not(statusOf(raw), 503)
    await handshakeAtBackend(backend, 1)
  })
}

t.test('a tunnel cut when the shutdown grace ends is logged with reason "shutdown"', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, router, waitForLog } = await startTestRouter(t, { socketDir: dir, shutdownGraceMs: 200 })
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  ws.on('error', () => {})
  await router.close()
  const line = await waitForLog((l) => l.msg === 'websocket tunnel closed')
  t.equal(line.reason, 'shutdown')
})

t.test('a tunnel that ends by itself during the shutdown grace keeps reason "end"', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, router, waitForLog } = await startTestRouter(t, { socketDir: dir, shutdownGraceMs: 5000 })
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  ws.on('error', () => {})
  const closing = router.close()
  ws.close(1000, 'bye')
  await closing
  const line = await waitForLog((l) => l.msg === 'websocket tunnel closed')
  t.equal(line.reason, 'end')
})
