import { join } from 'node:path'
import t from 'tap'
import type { WebSocket } from 'ws'
import { startCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { openClient, startWsBackend, withTimeout } from './helpers/ws-backend.js'

function portOf (line: Record<string, unknown>): number {
  return Number(/:(\d+)$/.exec(String(line.address))?.[1])
}

t.test('SIGTERM with 100 open tunnels exits within the grace period plus 1 s', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const cli = startCli(t, ['--socket-dir', dir, '--listen', '127.0.0.1:0', '--shutdown-grace', '1s'])
  const port = portOf(await cli.waitForLine((l) => typeof l.address === 'string'))
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  const clients: WebSocket[] = await Promise.all(Array.from({ length: 100 }, () => openClient(`ws://127.0.0.1:${port}/svc/ws/`)))
  t.teardown(() => clients.forEach((ws) => ws.terminate()))
  t.equal(backend.clients.size, 100, '100 tunnels are open')
  const allClosed = Promise.all(clients.map((ws) => new Promise((resolve) => ws.once('close', resolve))))
  for (const ws of clients) ws.on('error', () => {})

  const started = performance.now()
  const exit = cli.stop('SIGTERM')
  const code = await withTimeout(exit, 5000, 'the router to exit')
  const ms = performance.now() - started
  t.equal(code, 0, 'a clean exit')
  t.ok(ms < 2000, `exited after ${ms.toFixed(0)} ms (grace 1000 ms)`)
  t.ok(ms >= 900, 'open tunnels got their grace period')
  await withTimeout(allClosed, 2000, 'every client to see its tunnel close')
  t.pass('every client saw the close')
})

t.test('close() refuses new upgrades at once and cuts open tunnels after the grace', async (t) => {
  const dir = makeTempDir(t)
  await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, router } = await startTestRouter(t, { socketDir: dir, shutdownGraceMs: 300 })
  const ws = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  ws.on('error', () => {})
  const closed = new Promise((resolve) => ws.once('close', resolve))
  const started = performance.now()
  const closing = router.close()
  t.equal(router.tunnels.registry.accepting, false, 'new upgrades are refused from the first moment')
  await closing
  const ms = performance.now() - started
  await closed
  t.ok(ms >= 250 && ms < 1500, `closed after ${ms.toFixed(0)} ms (grace 300 ms)`)
  t.equal(router.tunnels.registry.size, 0)
})
