import { join } from 'node:path'
import type { ServerResponse } from 'node:http'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { exchangeUntilClose, openRawSession, splitResponses } from './helpers/raw-session.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'

interface Teardown { teardown (fn: () => unknown): void }

/** `/slow` waits for `release`; anything else answers with the body it got. */
async function setup (t: Teardown) {
  const dir = makeTempDir(t)
  let held: ServerResponse | null = null
  let onHeld: () => void = () => {}
  const heldNow = new Promise<void>((resolve) => { onHeld = resolve })
  const backend = await startBackend(t, join(dir, 'fz', 'b.sock'), (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.url === '/slow') {
        held = res
        onHeld()
        return
      }
      // With a Content-Length the first body chunk is a Buffer, which Node's
      // _send puts after a queued head, so a buffered 100 ended up inside it.
      const body = Buffer.from(`${req.method} ${req.url} ${Buffer.concat(chunks).toString('latin1')}`, 'latin1')
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length) })
      res.end(body)
    })
  })
  const router = await startTestRouter(t, { socketDir: dir })
  const release = async (): Promise<void> => {
    await heldNow
    held?.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' })
    held?.end('slow')
  }
  return { backend, heldNow, release, ...router }
}

const upload = (path: string): string => `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n`

t.test('a pipelined Expect: 100-continue request gets its 100 after the earlier response, never inside another one', async (t) => {
  const { port, url, heldNow, release, waitForLog } = await setup(t)
  const session = openRawSession(port)
  t.teardown(() => session.socket.destroy())
  // The body follows at once, as a client that does not wait for the 100 sends it (RFC 9110 §10.1.1).
  session.socket.write('GET /fz/b/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' + upload('/fz/b/up') + 'hello')
  await heldNow
  // Two round trips on other connections give a router that ran the upload
  // early (as it did before issue #10) the time to queue its answer behind
  // the held response, which is where the 100 used to land wrong.
  for (const probe of ['/fz/b/probe1', '/fz/b/probe2']) t.equal((await httpGet(`${url}${probe}`)).status, 200)
  await release()
  const text = await session.waitFor((s) => splitResponses(s).responses.length === 3, 'three responses')
  const { responses, rest } = splitResponses(text)
  t.same(responses.map((r) => [r.status, r.body]), [[200, 'slow'], [100, ''], [200, 'POST /up hello']])
  t.equal(rest, '', 'nothing stray on the connection')
  t.equal((await waitForLog((l) => l.msg === 'request' && l.url === '/fz/b/up')).status, 200)
})

t.test('a lone Expect: 100-continue request gets 100 Continue, then its body reaches the backend', async (t) => {
  const { port } = await setup(t)
  const session = openRawSession(port)
  t.teardown(() => session.socket.destroy())
  session.socket.write(upload('/fz/b/up'))
  await session.waitFor((s) => s.startsWith('HTTP/1.1 100 Continue\r\n\r\n'), 'the 100 Continue')
  session.socket.write('hello')
  const text = await session.waitFor((s) => splitResponses(s).responses.length === 2, 'the final response')
  t.same(splitResponses(text).responses.map((r) => [r.status, r.body]), [[100, ''], [200, 'POST /up hello']])
})

t.test('an Expect other than 100-continue gets the router\'s 417 and closes the connection; nothing behind it runs', async (t) => {
  const { port, backend, waitForLog } = await setup(t)
  const text = await exchangeUntilClose(port,
    'GET /fz/b/odd HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: something-else\r\n\r\n' +
    'GET /fz/b/after HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  const { responses } = splitResponses(text)
  t.same(responses.map((r) => r.status), [417], 'one answer, then the close')
  t.match(text, /connection: close/i)
  t.match(responses[0]?.body, /"error":"expectation_failed"/)
  t.equal(backend.seen.length, 0, 'neither request reached the backend')
  t.equal((await waitForLog((l) => l.msg === 'request' && l.url === '/fz/b/odd')).status, 417, 'the 417 has its access-log line')
})
