import { join } from 'node:path'
import t from 'tap'
import type { WebSocket } from 'ws'
import { startCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { DEADLINE_MS, onceWithin, withTimeout } from './helpers/wait-for.js'
import { nextMessage, openClient, startWsBackend } from './helpers/ws-backend.js'

function portOf (line: Record<string, unknown>): number {
  return Number(/:(\d+)$/.exec(String(line.address))?.[1])
}

// How long shutdown takes is not asserted: the grace is a timer the router
// sets itself. What must hold is that open tunnels keep working once the
// signal came, and that the router still ends them and exits.
t.test('SIGTERM with 100 open tunnels: they keep working through the grace, then are cut and the router exits 0', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const cli = startCli(t, ['--socket-dir', dir, '--listen', '127.0.0.1:0', '--shutdown-grace', '2s'])
  const port = portOf(await cli.waitForLine((l) => typeof l.address === 'string'))
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  const clients: WebSocket[] = await Promise.all(Array.from({ length: 100 }, () => openClient(`ws://127.0.0.1:${port}/svc/ws/`)))
  t.teardown(() => clients.forEach((ws) => ws.terminate()))
  t.equal(backend.clients.size, 100, '100 tunnels are open')
  const allClosed = Promise.all(clients.map((ws) => new Promise((resolve) => ws.once('close', resolve))))
  for (const ws of clients) ws.on('error', () => {})

  const exit = cli.stop('SIGTERM')
  await cli.waitForLine((l) => l.msg === 'shutting down')
  const last = clients[99] as WebSocket
  last.send('after the signal')
  t.equal((await nextMessage(last)).data.toString(), 'after the signal', 'an open tunnel still echoes once shutdown has begun')
  t.equal(await withTimeout(exit, DEADLINE_MS, 'the router to exit'), 0, 'a clean exit, though no tunnel ended by itself')
  await withTimeout(allClosed, DEADLINE_MS, 'every client to see its tunnel close')
  t.pass('every client saw the close')
})

t.test('close() refuses new upgrades at once and cuts open tunnels after the grace', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, router } = await startTestRouter(t, { socketDir: dir, shutdownGraceMs: 1000 })
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  ws.on('error', () => {})
  const closed = onceWithin(ws, 'close', 'the tunnel to be cut')
  const closing = router.close()
  t.equal(router.tunnels.registry.accepting, false, 'new upgrades are refused from the first moment')
  ws.send('during the grace')
  t.equal((await nextMessage(ws)).data.toString(), 'during the grace', 'the open tunnel works during the grace')
  await withTimeout(closing, DEADLINE_MS, 'close() to finish')
  await closed
  t.equal(router.tunnels.registry.size, 0)
})
