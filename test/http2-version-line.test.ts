import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { rawExchange, statusOf } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'

// node:http parses `HTTP/2.0` in an HTTP/1 request line as major version 2; it is still an HTTP/1 message on a plain
// connection, with no HTTP/2 stream behind it (issue #13, found by the fuzzer: the router answered 500).

t.test('an HTTP/1 request line saying HTTP/2.0 is served as HTTP/1, with its chunked body', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'svc', 'api.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const raw = await rawExchange(port, `POST /svc/api/x HTTP/2.0\r\nHost: 127.0.0.1:${port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`)
  t.equal(statusOf(raw), 200, raw.split('\r\n')[0] ?? '')
  t.equal(backend.seen.length, 1)
})

t.test('an HTTP/1 request line saying HTTP/2.0 without Host gets 400: only HTTP/1.0 may leave Host out', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startBackend(t, join(dir, 'svc', 'api.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  const raw = await rawExchange(port, 'GET /svc/api/x HTTP/2.0\r\nConnection: close\r\n\r\n')
  t.equal(statusOf(raw), 400)
  t.equal(backend.seen.length, 0)
})
