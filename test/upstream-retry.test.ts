import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { startBackend, type Backend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'

interface Teardown { teardown (fn: () => unknown): void }

/**
 * Plays the keep-alive race of issue #10 on purpose: just before the router
 * writes the request head for `path` onto a reused connection, the backend's
 * end of that connection is closed. undici publishes
 * `undici:client:sendHeaders` synchronously before its write, so the write
 * then hits a closed peer and fails with nothing delivered, as it does when
 * a backend closes a keep-alive connection a moment too early.
 */
function closeBackendJustBeforeWrite (t: Teardown, backend: Backend, path: string): { readonly closed: number } {
  const open = new Set<Socket>()
  backend.server.on('connection', (socket: Socket) => {
    open.add(socket)
    socket.on('close', () => open.delete(socket))
  })
  const state = { closed: 0 }
  const onSend = (message: unknown): void => {
    const { headers } = message as { headers: string }
    if (state.closed > 0 || !headers.includes(` ${path} HTTP/1.1`)) return
    // One warm connection: the one that served the warm-up request.
    for (const socket of open) {
      socket.destroy()
      state.closed++
    }
  }
  subscribe('undici:client:sendHeaders', onSend)
  t.teardown(() => unsubscribe('undici:client:sendHeaders', onSend))
  return state
}

async function readBody (req: import('node:http').IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString()
}

for (const method of ['GET', 'POST']) {
  t.test(`a ${method} that never reached a backend closing its keep-alive connection is retried and arrives once`, async (t) => {
    const dir = makeTempDir(t)
    const backend = await startBackend(t, join(dir, 'ka', 'ui.sock'), (req, res) => {
      void readBody(req).then((body) => res.end(`${req.method} ${req.url} ${body}`))
    })
    const { url, waitForLog } = await startTestRouter(t, { socketDir: dir })
    const race = closeBackendJustBeforeWrite(t, backend, '/doomed')
    t.equal((await httpGet(`${url}/ka/ui/warm`)).status, 200, 'the warm-up request opens a keep-alive connection')
    const body = method === 'POST' ? 'payload-bytes' : undefined
    const res = await httpGet(`${url}/ka/ui/doomed`, { method, body, headers: body === undefined ? {} : { 'content-length': String(body.length) } })
    t.equal(race.closed, 1, 'the backend closed the connection just before the write')
    t.equal(res.status, 200, 'the client never sees the race')
    t.equal(res.text, `${method} /doomed ${body ?? ''}`, 'the retry carries the same request, body and all')
    t.same(backend.seen.map((r) => r.url), ['/warm', '/doomed'], 'the backend saw it exactly once')
    t.match(await waitForLog((l) => l.msg === 'upstream request retried: it never reached the service'), {
      level: 40, service: 'ka', socket: 'ka/ui.sock', cause: 'EPIPE', retry: 1
    }, 'the retry is logged')
  })
}

for (const method of ['GET', 'HEAD', 'OPTIONS']) {
  t.test(`a ${method} whose backend closes without answering reaches it once and gets 502`, async (t) => {
    const dir = makeTempDir(t)
    const backend = await startBackend(t, join(dir, 'cut', 'ui.sock'), (req, res) => {
      if (req.url === '/warm') res.end('warm')
      else req.socket.destroy()
    })
    const { url, logs } = await startTestRouter(t, { socketDir: dir })
    const fresh = await httpGet(`${url}/cut/ui/fresh`, { method })
    t.equal(fresh.status, 502, 'a fresh connection cut without an answer is 502')
    t.equal((await httpGet(`${url}/cut/ui/warm`)).status, 200)
    const reused = await httpGet(`${url}/cut/ui/reused`, { method })
    t.equal(reused.status, 502, 'a reused connection cut without an answer is 502')
    t.same(backend.seen.map((r) => r.url), ['/fresh', '/warm', '/reused'], 'each request reached the backend once')
    t.notOk(logs.some((l) => l.msg === 'upstream request retried: it never reached the service'), 'nothing was retried')
  })
}

t.test('a request the backend reset after reading its body is not retried', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'rst', 'ui.sock'), (req) => {
    void readBody(req).then(() => req.socket.destroy())
  })
  const { url } = await startTestRouter(t, { socketDir: dir })
  const res = await httpGet(`${url}/rst/ui/post`, { method: 'POST', body: 'x'.repeat(1000) })
  t.equal(res.status, 502)
  t.equal(backend.seen.length, 1, 'the POST reached the backend once')
})
