import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { rawExchange, statusOf } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { handshakeHead, startWsBackend } from './helpers/ws-backend.js'

// Issue #10, defect 5: a `..` hidden behind an encoded separator.
const TRAVERSALS = [
  '..%2Fx',
  'a/%2e%2e%2fx',
  '..%5Cx',
  '..\\x',
  'a%2F..',
  'a%2f%2E%2fb',
  'a%5c.%5cb',
  '%2e%2E%2F%2e%2e%2Fetc%2Fpasswd',
  'a\\..\\b'
]
// Dots and encoded slashes that are not dot-segments: forwarded byte for byte.
const ORDINARY = ['a%20b/c%2Fd', '..a%2Fb', 'a..%2Fb', '...%2Fx', 'a%2F.b', '%2e%2e%2e%5Cx', 'x?q=..%2F..']

async function setUp (t: { teardown (fn: () => unknown): void }) {
  const dir = makeTempDir(t)
  const http = await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const ws = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  return { http, ws, port }
}

t.test('a dot-segment behind an encoded slash or backslash gets 400 on HTTP and never reaches the backend', async (t) => {
  const { http, port } = await setUp(t)
  for (const rest of TRAVERSALS) {
    const raw = await rawExchange(port, `GET /svc/ui/${rest} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
    t.equal(statusOf(raw), 400, rest)
  }
  t.equal(http.seen.length, 0)
})

t.test('a dot-segment behind an encoded slash or backslash gets 400 on a WebSocket handshake and never reaches the backend', async (t) => {
  const { ws, port } = await setUp(t)
  for (const rest of TRAVERSALS) {
    const raw = await rawExchange(port, handshakeHead(`/svc/ws/${rest}`, port))
    t.equal(statusOf(raw), 400, rest)
  }
  t.equal(ws.seen.length, 0)
})

t.test('ordinary encoded slashes and dotted names still pass byte for byte on HTTP', async (t) => {
  const { http, port } = await setUp(t)
  for (const rest of ORDINARY) {
    const raw = await rawExchange(port, `GET /svc/ui/${rest} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
    t.equal(statusOf(raw), 200, rest)
    t.equal(http.seen.at(-1)?.url, `/${rest}`, rest)
  }
})

t.test('ordinary encoded slashes still pass byte for byte on a WebSocket handshake', async (t) => {
  const { ws, port } = await setUp(t)
  const raw = await rawExchange(port, handshakeHead('/svc/ws/a%20b/c%2Fd', port), 500)
  t.equal(statusOf(raw), 101)
  t.equal(ws.seen.at(-1)?.url, '/a%20b/c%2Fd')
})
