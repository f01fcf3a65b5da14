import { request } from 'node:http'
import { once } from 'node:events'
import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { DEADLINE_MS, onceWithin, withTimeout } from './helpers/wait-for.js'

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

t.test('a stream that never ends keeps flowing through the grace period, then is cut', async (t) => {
  const dir = makeTempDir(t)
  let send: (text: string) => void = () => {}
  await startBackend(t, join(dir, 'svc', 'sse.sock'), (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: 1\n\n')
    send = (text) => res.write(text)
  })
  const { router, url } = await startTestRouter(t, { socketDir: dir, shutdownGraceMs: 1000 })
  const req = request(`${url}/svc/sse/`, { agent: false })
  req.end()
  const [res] = await once(req, 'response') as [import('node:http').IncomingMessage]
  res.setEncoding('utf8')
  const first = await onceWithin(res, 'data', 'the first event')
  t.equal(first[0], 'data: 1\n\n')
  // A cut stream errors with 'aborted'; that is the point here, not a failure.
  let aborted = false
  res.on('error', () => { aborted = true })
  const ended = withTimeout(new Promise((resolve) => res.once('close', resolve)), DEADLINE_MS, 'the stream to be cut')
  const closing = router.close()
  const during = onceWithin(res, 'data', 'an event sent during the grace period')
  send('data: 2\n\n')
  t.equal((await during)[0], 'data: 2\n\n', 'the stream still flows once close() has begun')
  await withTimeout(closing, DEADLINE_MS, 'close() to finish')
  await ended
  t.ok(aborted && !res.complete, 'cut, not ended: the stream never finished')
})

t.test('close is idempotent', async (t) => {
  const dir = makeTempDir(t)
  const { router, url } = await startTestRouter(t, { socketDir: dir })
  t.equal((await httpGet(`${url}/_sockrouter/health`)).status, 200)
  const first = router.close()
  t.equal(router.close(), first, 'the same promise')
  await first
})
