import { join } from 'node:path'
import type { ServerResponse } from 'node:http'
import t from 'tap'
import { echoHandler, startBackend, type Backend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { exchangeUntilClose, openRawSession, splitResponses } from './helpers/raw-session.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { handshakeHead, openClient, startWsBackend, type WsBackend } from './helpers/ws-backend.js'

interface Teardown { teardown (fn: () => unknown): void }

const host = 'Host: 127.0.0.1\r\n'
const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\n${host}${extra}\r\n`

/**
 * `/fz/b` answers at once, except `/fz/b/slow`, which waits for `release`;
 * `/other/secret` is a second backend that must never see a request that
 * rode behind a refused one.
 */
async function setup (t: Teardown) {
  const dir = makeTempDir(t)
  let held: ServerResponse | null = null
  let onHeld: () => void = () => {}
  const heldNow = new Promise<void>((resolve) => { onHeld = resolve })
  const first = await startBackend(t, join(dir, 'fz', 'b.sock'), (req, res) => {
    if (req.url !== '/slow') return echoHandler(req, res)
    req.resume()
    held = res
    onHeld()
  })
  const other = await startBackend(t, join(dir, 'other', 'secret.sock'))
  const ws = await startWsBackend(t, join(dir, 'ws', 'ws.sock'))
  const router = await startTestRouter(t, { socketDir: dir })
  const release = async (): Promise<void> => {
    await heldNow
    held?.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' })
    held?.end('slow')
  }
  return { first, other, ws, heldNow, release, ...router }
}

/**
 * A request sent later on a fresh connection to the same backend: once it
 * has been answered, a request the router dispatched earlier would have
 * arrived too, so `seen` then tells whether the pipelined one ever ran.
 */
async function settle (url: string, backend: Backend, path: string): Promise<string[]> {
  const { status } = await httpGet(`${url}${path}`)
  if (status !== 200) throw new Error(`the sentinel request got ${status}`)
  return backend.seen.map((r) => r.url)
}

async function settleWs (port: number, ws: WsBackend): Promise<number> {
  const client = await openClient(`ws://127.0.0.1:${port}/ws/ws/`)
  client.terminate()
  return ws.seen.length
}

t.test('a request pipelined behind a Host-less request gets no response and never reaches a backend', async (t) => {
  const { other, url, port, logs } = await setup(t)
  const raw = await exchangeUntilClose(port, 'GET /fz/b/first HTTP/1.1\r\n\r\n' + get('/other/secret/TAG'))
  const { responses, rest } = splitResponses(raw)
  t.same(responses.map((r) => r.status), [400], 'one answer: the router\'s 400, then the close')
  t.equal(rest, '')
  t.match(responses[0]?.headers['content-type'], /^application\/json/)
  t.same(await settle(url, other, '/other/secret/sentinel'), ['/sentinel'], 'the pipelined request never ran')
  t.notOk(logs.some((l) => l.msg === 'request' && l.url === '/other/secret/TAG'))
})

t.test('after a router 400, nothing pipelined behind it reaches a backend', async (t) => {
  const { other, url, port } = await setup(t)
  const refused = 'GET /fz/b/x HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n'
  const { responses } = splitResponses(await exchangeUntilClose(port, refused + get('/other/secret/TAG') + get('/other/secret/TAG2')))
  t.same(responses.map((r) => r.status), [400])
  t.same(await settle(url, other, '/other/secret/sentinel'), ['/sentinel'])
})

t.test('after a Connection: close request nothing else on the connection runs; its own response is delivered and logged', async (t) => {
  const { first, other, url, port, waitForLog } = await setup(t)
  const raw = await exchangeUntilClose(port, get('/fz/b/first', 'Connection: close\r\n') + get('/other/secret/TAG') + 'GARBAGE\r\n\r\n')
  const { responses, rest } = splitResponses(raw)
  t.same(responses.map((r) => r.status), [200], 'the first request\'s response, and nothing after it')
  t.equal(rest, '')
  t.equal(first.seen.length, 1)
  const line = await waitForLog((l) => l.msg === 'request' && l.url === '/fz/b/first')
  t.equal(line.status, 200, 'logged as delivered, not 499')
  t.same(await settle(url, other, '/other/secret/sentinel'), ['/sentinel'])
})

t.test('a parse error behind pipelined requests is answered after their responses, in order', async (t) => {
  const { port, waitForLog } = await setup(t)
  const raw = await exchangeUntilClose(port, get('/fz/b/one') + get('/other/secret/two') + 'GARBAGE\r\n\r\n')
  const { responses, rest } = splitResponses(raw)
  t.same(responses.map((r) => r.status), [200, 200, 400])
  t.match(JSON.parse(responses[0]?.body ?? '{}'), { url: '/one' })
  t.match(JSON.parse(responses[1]?.body ?? '{}'), { url: '/two' })
  t.match(JSON.parse(responses[2]?.body ?? '{}'), { error: 'bad_request' })
  t.equal(rest, '')
  for (const path of ['/fz/b/one', '/other/secret/two']) t.equal((await waitForLog((l) => l.msg === 'request' && l.url === path)).status, 200, `${path} logged`)
})

t.test('a parse error behind a slow response waits for it instead of cutting it off', async (t) => {
  const { port, release, waitForLog } = await setup(t)
  const session = openRawSession(port)
  t.teardown(() => session.socket.destroy())
  session.socket.write(get('/fz/b/slow') + 'GARBAGE\r\n\r\n')
  await release()
  const { responses } = splitResponses(await session.closed())
  t.same(responses.map((r) => r.status), [200, 400])
  t.equal(responses[0]?.body, 'slow', 'the slow response arrives whole, then the 400')
  t.equal((await waitForLog((l) => l.msg === 'request' && l.url === '/fz/b/slow')).status, 200)
})

t.test('an upgrade pipelined behind a Connection: close request never reaches the WebSocket backend', async (t) => {
  const { ws, port } = await setup(t)
  const raw = await exchangeUntilClose(port, get('/fz/b/first', 'Connection: close\r\n') + handshakeHead('/ws/ws/', port))
  t.same(splitResponses(raw).responses.map((r) => r.status), [200])
  t.equal(await settleWs(port, ws), 1, 'only the later, separate handshake reached it')
})

t.test('an upgrade pipelined behind a pending response waits its turn: the response, then the 101', async (t) => {
  const { ws, port, heldNow, release } = await setup(t)
  const session = openRawSession(port)
  t.teardown(() => session.socket.destroy())
  session.socket.write(get('/fz/b/slow') + handshakeHead('/ws/ws/', port))
  await heldNow
  t.equal(await settleWs(port, ws), 1, 'the pipelined handshake has not reached the backend while the response is pending')
  await release()
  const text = await session.waitFor((s) => s.includes('HTTP/1.1 101'), 'the 101')
  const { responses } = splitResponses(text)
  t.same(responses.map((r) => [r.status, r.body]).slice(0, 2), [[200, 'slow'], [101, '']], 'the slow response comes whole, then the 101')
  // A masked text frame "hi" (RFC 6455 §5.2); the echo comes back unmasked.
  const mask = [1, 2, 3, 4]
  session.socket.write(Buffer.from([0x81, 0x82, ...mask, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]))
  await session.waitFor((s) => s.endsWith('\x81\x02hi'), 'the echoed frame')
  t.pass('the tunnel works once it is its turn')
})

t.test('a request queued between a refused one and a broken body gets its response before the 400 (found by the fuzzer)', async (t) => {
  const { other, port, waitForLog } = await setup(t)
  // The first request is refused (404) before its chunked body is read; the
  // second is fine; the third breaks the parser inside its body. The second
  // reached its backend while the 400 went out at once and cut its answer off.
  const refusedWithBody = 'POST /nowhere/x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nx=92505&\r\n0\r\n\r\n'
  const broken = 'POST /other/secret/broken HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5c 5\r\nhello\r\n0\r\n\r\n'
  const { responses } = splitResponses(await exchangeUntilClose(port, refusedWithBody + get('/other/secret/middle') + broken))
  t.same(responses.map((r) => r.status), [404, 200, 400], 'every request that ran has its answer, then the 400')
  t.same(other.seen.map((r) => r.url), ['/middle'], 'the broken request never ran')
  t.equal((await waitForLog((l) => l.msg === 'request' && l.url === '/other/secret/middle')).status, 200)
})

t.test('a CONNECT pipelined behind a pending response gets its 405 after that response, not in place of it', async (t) => {
  const { port, heldNow, release } = await setup(t)
  const session = openRawSession(port)
  t.teardown(() => session.socket.destroy())
  session.socket.write(get('/fz/b/slow') + 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
  await heldNow
  await release()
  const text = await session.waitFor((s) => splitResponses(s).responses.length === 2, 'both answers')
  t.same(splitResponses(text).responses.map((r) => [r.status, r.body.slice(0, 4)]), [[200, 'slow'], [405, '{"er']])
})
