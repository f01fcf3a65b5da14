import { join } from 'node:path'
import t from 'tap'
import type { WebSocket } from 'ws'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { nextMessage, openClient, startWsBackend } from './helpers/ws-backend.js'

const TUNNELS = 1000

t.test(`${TUNNELS} concurrent tunnels each echo their own message`, async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, router } = await startTestRouter(t, { socketDir: dir, logLevel: 'warn' })
  const clients: WebSocket[] = []
  t.teardown(() => clients.forEach((ws) => ws.terminate()))
  // Batches keep the connect burst under the listen backlog; all of them stay open together.
  for (let i = 0; i < TUNNELS; i += 100) {
    clients.push(...await Promise.all(Array.from({ length: 100 }, () => openClient(`ws://127.0.0.1:${port}/svc/ws/`))))
  }
  t.equal(router.tunnels.stats.active, TUNNELS, `${TUNNELS} tunnels open at once`)
  t.equal(backend.clients.size, TUNNELS)

  const echoes = await Promise.all(clients.map(async (ws, i) => {
    const reply = nextMessage(ws, 20_000)
    ws.send(`message ${i}`)
    return (await reply).data.toString()
  }))
  const wrong = echoes.filter((text, i) => text !== `message ${i}`)
  t.equal(wrong.length, 0, 'every tunnel got its own message back')

  await Promise.all(clients.map((ws) => new Promise((resolve) => { ws.once('close', resolve); ws.close(1000) })))
  const stats = router.tunnels.stats.snapshot()
  t.equal(stats.opened, TUNNELS)
})
