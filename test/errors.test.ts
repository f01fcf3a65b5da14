import { request } from 'node:http'
import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'

t.test('a backend that sends no headers in time gives 504 with a JSON body', async (t) => {
  const dir = makeTempDir(t)
  const silent = await startBackend(t, join(dir, 'slow', 'ui.sock'), () => {})
  const { url } = await startTestRouter(t, { socketDir: dir, upstreamTimeoutMs: 200 })
  const res = await httpGet(`${url}/slow/ui/`)
  t.equal(res.status, 504)
  t.same(JSON.parse(res.text), { error: 'gateway_timeout', message: 'The service did not answer in time.', service: 'slow' })
  t.equal(silent.seen.length, 1, 'the request reached the backend, which never answered, and a timed-out GET is not retried')
})

t.test('a backend killed before sending headers gives 502', async (t) => {
  const dir = makeTempDir(t)
  const crashing = await startBackend(t, join(dir, 'crash', 'ui.sock'), (req) => { req.socket.destroy() })
  const { url } = await startTestRouter(t, { socketDir: dir })
  for (const method of ['GET', 'POST']) {
    const res = await httpGet(`${url}/crash/ui/`, { method, body: method === 'POST' ? 'x' : undefined })
    t.equal(res.status, 502, method)
    t.equal((JSON.parse(res.text) as { error: string }).error, 'bad_gateway')
  }
  t.ok(crashing.seen.length >= 2)
  t.equal((await httpGet(`${url}/_sockrouter/health`)).status, 200, 'the router keeps serving')
})

t.test('a backend killed after sending headers cuts the client connection', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'crash', 'ui.sock'), (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100000' })
    res.write('partial', () => res.socket?.destroy())
  })
  const { url } = await startTestRouter(t, { socketDir: dir })
  const outcome = await new Promise<string>((resolve) => {
    const req = request(`${url}/crash/ui/`, { agent: false }, (res) => {
      t.equal(res.statusCode, 200)
      res.on('data', () => {})
      res.on('end', () => resolve('end'))
      res.on('aborted', () => resolve('aborted'))
      res.on('error', () => resolve('error'))
    })
    req.on('error', () => resolve('error'))
    req.end()
  })
  t.not(outcome, 'end', `the client saw the cut (${outcome}), not a clean end`)
  t.equal((await httpGet(`${url}/_sockrouter/health`)).status, 200, 'the router keeps serving')
})

t.test('error bodies never carry a stack, an errno or a socket path', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'crash', 'ui.sock'), (req) => { req.socket.destroy() })
  const { url, waitForLog, logs } = await startTestRouter(t, { socketDir: dir })
  const res = await httpGet(`${url}/crash/ui/x`)
  t.equal(res.status, 502)
  t.notMatch(res.text, /at |ECONN|UND_ERR|\.sock|\/tmp/)
  t.same(Object.keys(JSON.parse(res.text) as object).sort(), ['error', 'message', 'service'])
  const line = await waitForLog((l) => l.msg === 'upstream request failed')
  t.match(line, { level: 40, service: 'crash', socket: 'crash/ui.sock', error: 'bad_gateway', cause: 'UND_ERR_SOCKET' })
  t.notMatch(JSON.stringify(line), dir, 'the operator log line names the socket, not its path')
  await waitForLog((l) => l.msg === 'request' && l.status === 502)
  t.notOk(logs.some((l) => l.msg === 'response errored'), 'reply-from\'s own warn line, with the whole error, stays quiet')
})
