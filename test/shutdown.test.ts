import { request } from 'node:http'
import { once } from 'node:events'
import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'

t.test('an in-flight request finishes during the shutdown grace period', async (t) => {
  const dir = makeTempDir(t)
  let release: () => void = () => {}
  let arrived: () => void = () => {}
  const reached = new Promise<void>((resolve) => { arrived = resolve })
  await startBackend(t, join(dir, 'svc', 'ui.sock'), (_req, res) => {
    release = () => res.end('finished')
    arrived()
  })
  const { router, url, port } = await startTestRouter(t, { socketDir: dir, shutdownGraceMs: 5000 })
  const pending = httpGet(`${url}/svc/ui/slow`)
  await reached
  const closing = router.close()
  await t.rejects(httpGet(`http://127.0.0.1:${port}/svc/ui/`), 'no new connections once closing')
  release()
  const res = await pending
  t.equal(res.status, 200)
  t.equal(res.text, 'finished')
  await closing
})

t.test('a stream that never ends is cut after the grace period', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'sse.sock'), (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: 1\n\n')
  })
  const { router, url } = await startTestRouter(t, { socketDir: dir, shutdownGraceMs: 300 })
  const req = request(`${url}/svc/sse/`, { agent: false })
  req.end()
  const [res] = await once(req, 'response') as [import('node:http').IncomingMessage]
  res.resume()
  const ended = new Promise<void>((resolve) => { res.once('close', () => resolve()) })
  const started = Date.now()
  await router.close()
  await ended
  const took = Date.now() - started
  t.ok(took >= 250, `waited for the grace period (${took} ms)`)
  t.ok(took < 3000, `then cut the stream (${took} ms)`)
})

t.test('close is idempotent', async (t) => {
  const dir = makeTempDir(t)
  const { router, url } = await startTestRouter(t, { socketDir: dir })
  t.equal((await httpGet(`${url}/_sockrouter/health`)).status, 200)
  const first = router.close()
  t.equal(router.close(), first, 'the same promise')
  await first
})
