import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'

/** How many connections the backend accepted for three requests in a row through the router. */
async function connectionsFor (keepAliveTimeoutMs: number, t: Test): Promise<number> {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'ka', 'ui.sock'), (_req, res) => res.end('ok'))
  // node:http announces it as `Keep-Alive: timeout=<seconds>`.
  backend.server.keepAliveTimeout = keepAliveTimeoutMs
  let connections = 0
  backend.server.on('connection', () => { connections++ })
  const { url } = await startTestRouter(t, { socketDir: dir })
  await httpGet(`${url}/ka/ui/1`)
  await httpGet(`${url}/ka/ui/2`)
  await httpGet(`${url}/ka/ui/3`)
  return connections
}

t.test('a connection whose backend announces Keep-Alive: timeout=2 is reused', async (t) => {
  const connections = await connectionsFor(2_000, t)
  t.equal(connections, 1, 'three requests in a row share one connection (kept 1 s short of the backend\'s 2 s)')
})

t.test('a connection whose backend announces Keep-Alive: timeout=1 is never reused', async (t) => {
  const connections = await connectionsFor(1_000, t)
  t.equal(connections, 3, 'no margin is left under a 1 s keep-alive, so each request gets a fresh connection')
})
