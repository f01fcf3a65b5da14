import { mkdirSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import t from 'tap'
import { httpGet } from './helpers/http-client.js'
import { listenOnSocket } from './helpers/listen-socket.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'

interface Teardown { teardown (fn: () => unknown): void }

/** A backend that answers every request with the same raw bytes. */
async function startRawBackend (t: Teardown, socketPath: string, reply: string): Promise<void> {
  mkdirSync(dirname(socketPath), { recursive: true })
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.once('data', () => socket.write(reply))
  })
  await listenOnSocket(server, socketPath)
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
}

t.test('a backend response with a bad chunk size gives 502, not 500', async (t) => {
  const dir = makeTempDir(t)
  await startRawBackend(t, join(dir, 'bad', 'ui.sock'), 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n')
  const { url, logs } = await startTestRouter(t, { socketDir: dir })
  const res = await httpGet(`${url}/bad/ui/`)
  t.equal(res.status, 502)
  t.match(JSON.parse(res.text), { error: 'bad_gateway', service: 'bad' })
  t.notOk(logs.some((l) => l.msg === 'unexpected error'), 'not logged as a router bug')
})
