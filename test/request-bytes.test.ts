import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { exchangeUntilClose } from './helpers/raw-session.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'

interface Teardown { teardown (fn: () => unknown): void }

interface Received { method: string, url: string, contentType: string[], body: Buffer }

/** A backend that records each request's body bytes and raw Content-Type lines. */
async function setup (t: Teardown) {
  const dir = makeTempDir(t)
  const received: Received[] = []
  await startBackend(t, join(dir, 'svc', 'ui.sock'), (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const contentType = req.rawHeaders.filter((_v, i, all) => i % 2 === 1 && all[i - 1]?.toLowerCase() === 'content-type')
      received.push({ method: req.method ?? '', url: req.url ?? '', contentType, body: Buffer.concat(chunks) })
      res.writeHead(200, { 'content-length': '2' })
      res.end('ok')
    })
  })
  const router = await startTestRouter(t, { socketDir: dir })
  return { received, ...router }
}

const BINARY = Buffer.from([0x00, 0xff, 0xe9, 0x0d, 0x0a, 0x41, 0x80])

async function send (port: number, head: string, body: Buffer = Buffer.alloc(0)): Promise<number> {
  // The status line only: a HEAD response has a Content-Length and no body.
  const raw = await exchangeUntilClose(port, Buffer.concat([Buffer.from(head, 'latin1'), body]))
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1] ?? 0)
}

const headOf = (method: string, extra: string): string => `${method} /svc/ui/b HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`

t.test('GET and HEAD bodies reach the backend byte for byte', async (t) => {
  const { received, port } = await setup(t)
  t.equal(await send(port, headOf('GET', `Content-Length: ${BINARY.length}\r\n`), BINARY), 200)
  t.equal(await send(port, headOf('HEAD', `Content-Length: ${BINARY.length}\r\n`), BINARY), 200)
  const chunked = Buffer.concat([Buffer.from(`${BINARY.length.toString(16)}\r\n`), BINARY, Buffer.from('\r\n0\r\n\r\n')])
  t.equal(await send(port, headOf('GET', 'Transfer-Encoding: chunked\r\n'), chunked), 200)
  t.same(received.map((r) => [r.method, r.body.toString('hex')]), [
    ['GET', BINARY.toString('hex')],
    ['HEAD', BINARY.toString('hex')],
    ['GET', BINARY.toString('hex')]
  ])
})

t.test('an odd Content-Type reaches the backend unchanged, with its body', async (t) => {
  const { received, port } = await setup(t)
  const types = ['a', '', ';;;', 'text/plain; charset=', 'application/json; a=b; a=c', '*/*', 'x/y;q="\\"']
  for (const type of types) {
    t.equal(await send(port, headOf('POST', `Content-Type: ${type}\r\nContent-Length: ${BINARY.length}\r\n`), BINARY), 200, JSON.stringify(type))
  }
  t.same(received.map((r) => r.contentType), types.map((type) => [type]))
  t.ok(received.every((r) => r.body.equals(BINARY)), 'every body arrived intact')
})

t.test('a transfer coding other than chunked alone gets 501 and never reaches the backend, as in nginx', async (t) => {
  const { received, port } = await setup(t)
  const body = Buffer.from('5\r\nhello\r\n0\r\n\r\n')
  for (const te of ['Transfer-Encoding: gzip, chunked\r\n', 'Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n', 'Transfer-Encoding: deflate,chunked\r\n']) {
    t.equal(await send(port, headOf('POST', te), body), 501, JSON.stringify(te))
  }
  t.equal(received.length, 0)
  t.equal(await send(port, headOf('POST', 'Transfer-Encoding: Chunked\r\n'), body), 200, 'chunked alone, in any case, is forwarded')
  t.same(received.map((r) => r.body.toString()), ['hello'])
  const http10 = 'POST /svc/ui/b HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n'
  t.equal(await send(port, http10, body), 400, 'Transfer-Encoding in HTTP/1.0 is faulty framing (RFC 9112 §6.1)')
  t.equal(received.length, 1)
})
