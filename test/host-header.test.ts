import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { exchangeUntilClose, openRawSession, splitResponses } from './helpers/raw-session.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter, type TestRouterOptions } from './helpers/router.js'
import { handshakeHead, startWsBackend } from './helpers/ws-backend.js'

interface Teardown { teardown (fn: () => unknown): void }

async function setup (t: Teardown, options: Partial<TestRouterOptions> = {}) {
  const dir = makeTempDir(t)
  const http = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const ws = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const router = await startTestRouter(t, { socketDir: dir, ...options })
  return { http, ws, ...router }
}

/** The one response the router sends before it closes the connection. */
async function only (port: number, payload: string): Promise<{ status: number, headers: Record<string, string>, body: string }> {
  const { responses, rest } = splitResponses(await exchangeUntilClose(port, payload))
  if (responses.length !== 1 || rest !== '') throw new Error(`expected one response, got ${responses.length} and ${JSON.stringify(rest)}`)
  return responses[0] as { status: number, headers: Record<string, string>, body: string }
}

const plain = (host: string, extra = ''): string => `GET /svc/ui/ HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`
/** A WebSocket handshake whose Host lines are exactly `hosts`. */
function upgrade (port: number, hosts: readonly string[], extra: Record<string, string> = {}): string {
  const head = handshakeHead('/svc/ws/', port, extra)
  return head.replace(/Host: [^\r]*\r\n/, hosts.map((h) => `Host: ${h}\r\n`).join(''))
}

t.test('two Host lines get 400 on plain HTTP and on the upgrade path, and never reach a backend (RFC 9112 §3.2)', async (t) => {
  const { http, ws, port } = await setup(t)
  for (const second of ['evil.example', '127.0.0.1']) {
    const res = await only(port, `GET /svc/ui/ HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: ${second}\r\nConnection: close\r\n\r\n`)
    t.equal(res.status, 400, `HTTP, second Host ${second}`)
    t.match(JSON.parse(res.body), { error: 'bad_request', message: /more than one Host/ })
    const up = await only(port, upgrade(port, [`127.0.0.1:${port}`, second]))
    t.equal(up.status, 400, `upgrade, second Host ${second}`)
  }
  t.equal(http.seen.length, 0)
  t.equal(ws.seen.length, 0)
})

t.test('duplicate Content-Length is refused with 400 and never reaches the backend', async (t) => {
  const { http, port } = await setup(t)
  for (const lengths of [['5', '5'], ['5', '6']]) {
    const head = `POST /svc/ui/ HTTP/1.1\r\nHost: 127.0.0.1\r\n${lengths.map((l) => `Content-Length: ${l}\r\n`).join('')}\r\nhello!`
    t.equal((await only(port, head)).status, 400, `Content-Length ${lengths.join(' and ')}`)
  }
  t.equal(http.seen.length, 0)
})

t.test('a Host the strict parser refuses gets 400 on both paths, even with --allowed-host *', async (t) => {
  const bad = ['127.0.0.1:7600@evil.com', '127.0.0.1:abc', 'localhost:99999', 'local host', '[::1', '[v1.x]', '127.0.0.1:80:80', 'a%2eb', 'evil.com\\@127.0.0.1', '']
  for (const allowedHosts of [[], ['*']]) {
    const { http, ws, port } = await setup(t, { allowedHosts })
    for (const host of bad) {
      const res = await only(port, plain(host))
      t.equal(res.status, 400, `HTTP Host ${JSON.stringify(host)}, allowed ${allowedHosts.join()}`)
      t.match(JSON.parse(res.body), { error: 'bad_request' })
      t.equal((await only(port, upgrade(port, [host]))).status, 400, `upgrade Host ${JSON.stringify(host)}`)
    }
    t.equal(http.seen.length, 0)
    t.equal(ws.seen.length, 0)
  }
})

t.test('a Host with userinfo cannot borrow an Origin: the handshake gets 400, not 101', async (t) => {
  const { ws, port } = await setup(t)
  const res = await only(port, upgrade(port, [`127.0.0.1:${port}@evil.com`], { Origin: 'http://evil.com' }))
  t.equal(res.status, 400)
  t.equal(ws.seen.length, 0)
})

t.test('valid Host forms pass and reach the backend unchanged', async (t) => {
  const { http, port } = await setup(t)
  for (const host of ['localhost', `LOCALHOST:${port}`, '[::1]:80', '127.0.0.1.', 'app.localhost:', '127.0.0.5']) {
    const res = await only(port, plain(host))
    t.equal(res.status, 200, host)
    t.equal(http.seen.at(-1)?.headers.host, host)
  }
})

t.test('HTTP/1.1 without Host gets the router\'s JSON 400, on both paths; HTTP/1.0 without Host is served', async (t) => {
  const { http, ws, port } = await setup(t)
  const res = await only(port, 'GET /svc/ui/ HTTP/1.1\r\n\r\n')
  t.equal(res.status, 400)
  t.match(res.headers['content-type'], /^application\/json/)
  t.match(JSON.parse(res.body), { error: 'bad_request', message: /needs a Host/ })
  t.equal((await only(port, upgrade(port, []))).status, 400, 'upgrade without Host')
  t.equal(http.seen.length, 0)
  t.equal(ws.seen.length, 0)
  t.equal((await only(port, 'GET /svc/ui/ HTTP/1.0\r\n\r\n')).status, 200, 'HTTP/1.0 has no Host to require')
  t.equal(http.seen.length, 1)
})

t.test('an absolute-form target: the backend gets exactly the authority that was checked, on both paths', async (t) => {
  const { http, ws, port } = await setup(t)
  const res = await only(port, `GET http://localhost:${port}/svc/ui/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
  t.equal(res.status, 200)
  t.equal(http.seen.at(-1)?.headers.host, `localhost:${port}`)

  const head = upgrade(port, [`127.0.0.1:${port}`]).replace('GET /svc/ws/ ', `GET http://localhost:${port}/svc/ws/ `)
  const session = openRawSession(port)
  t.teardown(() => session.socket.destroy())
  session.socket.write(head)
  t.match(await session.waitFor((text) => text.includes('\r\n\r\n'), 'the handshake response'), /^HTTP\/1\.1 101 /)
  const hostLines = ws.seen[0]?.rawHeaders.filter((_v, i, all) => i % 2 === 1 && all[i - 1]?.toLowerCase() === 'host')
  t.same(hostLines, [`localhost:${port}`], 'one Host line, the target\'s authority')

  const foreign = upgrade(port, [`127.0.0.1:${port}`]).replace('GET /svc/ws/ ', 'GET http://rebind.example/svc/ws/ ')
  t.equal((await only(port, foreign)).status, 403, 'the target\'s authority is what the guard checks')
  t.equal(ws.seen.length, 1)
})

t.test('an absolute-form target with userinfo gets 400 (RFC 9110 §4.2.4)', async (t) => {
  const { http, ws, port } = await setup(t)
  const res = await only(port, `GET http://user@127.0.0.1/svc/ui/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
  t.equal(res.status, 400)
  const head = upgrade(port, [`127.0.0.1:${port}`]).replace('GET /svc/ws/ ', `GET http://evil.com@127.0.0.1:${port}/svc/ws/ `)
  t.equal((await only(port, head)).status, 400)
  t.equal(http.seen.length, 0)
  t.equal(ws.seen.length, 0)
})
