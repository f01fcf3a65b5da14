import { once } from 'node:events'
import { connect } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'

/**
 * issue #11: shutting down must not reset a connection the router had
 * accepted but whose request it had not read yet; under socket activation
 * such connections keep arriving until the last moment of a restart.
 */

t.test('a connection accepted before shutdown that sends its request after it still gets its answer', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { router, port } = await startTestRouter(t, { socketDir: dir, shutdownGraceMs: 5000 })
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  const ended = once(socket, 'close')
  const closed = router.close()
  socket.write('GET /svc/ui/late HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  await ended
  const reply = Buffer.concat(chunks).toString('latin1')
  t.match(reply, /^HTTP\/1\.1 200 /, 'answered, not reset')
  t.match(reply, /\r\nconnection: close\r\n/i, 'and told the connection closes')
  await closed
})

t.test('a keep-alive connection idle at shutdown is closed at once, not after the grace period', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'svc', 'ui.sock'))
  const { router, port } = await startTestRouter(t, { socketDir: dir, shutdownGraceMs: 30_000 })
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write('GET /svc/ui/first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  await once(socket, 'data')
  const ended = once(socket, 'close')
  const startedAt = performance.now()
  await router.close()
  await ended
  t.ok(performance.now() - startedAt < 30_000, 'closed without waiting out the grace period')
})
