import { join } from 'node:path'
import t from 'tap'
import { rawExchange, statusOf } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { handshakeHead, openClient, startWsBackend } from './helpers/ws-backend.js'

function headerOf (raw: string, name: string): string | undefined {
  return new RegExp(`^${name}: *(.*?)\\r$`, 'im').exec(raw)?.[1]
}

async function setUp (t: { teardown (fn: () => unknown): void }) {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port } = await startTestRouter(t, { socketDir: dir })
  return { backend, port }
}

for (const c of [
  { name: 'version 8', extra: { 'Sec-WebSocket-Version': '8' } },
  { name: 'version 14', extra: { 'Sec-WebSocket-Version': '14' } },
  { name: 'no version', extra: { 'Sec-WebSocket-Version': '' } }
]) {
  t.test(`a handshake with ${c.name} gets 426 naming version 13 and never reaches the backend`, async (t) => {
    const { backend, port } = await setUp(t)
    let head = handshakeHead('/svc/ws/', port, c.extra)
    if (c.extra['Sec-WebSocket-Version'] === '') head = head.replace(/Sec-WebSocket-Version: \r\n/, '')
    const raw = await rawExchange(port, head)
    t.equal(statusOf(raw), 426)
    t.equal(headerOf(raw, 'Sec-WebSocket-Version'), '13', 'RFC 6455 §4.4')
    t.equal(headerOf(raw, 'Upgrade'), 'websocket', 'RFC 9110 §15.5.22')
    t.match(headerOf(raw, 'Connection') ?? '', /\bclose\b/)
    t.equal(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error, 'upgrade_required')
    t.equal(backend.seen.length, 0)
  })
}

t.test('a ws client speaking protocol version 8 is told 426 and Sec-WebSocket-Version: 13', async (t) => {
  const { backend, port } = await setUp(t)
  const err = await openClient(`ws://127.0.0.1:${port}/svc/ws/`, undefined, { protocolVersion: 8 }).then(() => null, (e: unknown) => e) as { status?: number, headers?: Record<string, string> } | null
  t.equal(err?.status, 426)
  t.equal(err?.headers?.['sec-websocket-version'], '13')
  t.equal(backend.seen.length, 0)
})

t.test('an HTTP/1.0 WebSocket handshake is refused, never re-sent to the backend as HTTP/1.1', async (t) => {
  const { backend, port } = await setUp(t)
  const raw = await rawExchange(port, handshakeHead('/svc/ws/', port).replace('HTTP/1.1\r\n', 'HTTP/1.0\r\n'))
  t.equal(statusOf(raw), 400)
  t.equal(backend.seen.length, 0)
})
