import { once } from 'node:events'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import type { WebSocket } from 'ws'
import { readSnapshot } from '../src/discovery/read-snapshot.js'
import type { SnapshotReader } from '../src/discovery/snapshot-source.js'
import { reloadWithLog } from '../src/logging/log-reload.js'
import { startBackend } from './helpers/backend.js'
import { startTestRouter } from './helpers/router.js'
import { startCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { withTimeout } from './helpers/wait-for.js'
import { openClient, nextMessage, startWsBackend } from './helpers/ws-backend.js'

// Issue #12, item 5: the ready line names the services directory, SIGHUP says
// when its reload finished and what changed, and a normal WebSocket close is
// not an error.

t.test('the ready line names the socket and services directories in use', async (t) => {
  const dir = makeTempDir(t)
  const servicesDir = join(dir, 'routes.d')
  mkdirSync(servicesDir)
  const cli = startCli(t, ['--socket-dir', join(dir, 's'), '--services-dir', servicesDir, '--listen', '127.0.0.1:0'])
  t.match(await cli.waitForLine((l) => l.msg === 'sockrouter ready'), { socketDir: join(dir, 's'), servicesDir })
})

t.test('SIGHUP logs when its reload finished', async (t) => {
  const dir = makeTempDir(t)
  const cli = startCli(t, ['--socket-dir', dir, '--listen', '127.0.0.1:0'])
  await cli.waitForLine((l) => l.msg === 'sockrouter ready')
  cli.child.kill('SIGHUP')
  const done = await cli.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('reload finished'))
  t.match(done, { level: 30, trigger: 'SIGHUP', added: [], removed: [], changed: [] })
  t.match(done.msg, /^reload finished in \d+(\.\d)? ms: 0 routes added, 0 removed, 0 changed$/)
  t.type(done.ms, 'number')
})

t.test('the reload line says what the reload changed', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'old', 'ui.sock'))
  await startBackend(t, join(dir, 'late', 'ui.sock'))
  // The seam hides late/ui.sock from every scan until `hidden` goes false, so
  // only the reload below can find it: no watcher event races with it.
  let hidden = true
  const reader: SnapshotReader = async (...args) => {
    const snapshot = await readSnapshot(...args)
    if (!hidden) return snapshot
    return { ...snapshot, sockets: { ...snapshot.sockets, sockets: snapshot.sockets.sockets.filter((s) => s.service !== 'late') } }
  }
  const { router } = await startTestRouter(t, { socketDir: dir, readSnapshot: reader })
  t.same(router.store.current.routes.map((r) => r.prefix), ['/old/ui/'])

  const lines: Record<string, unknown>[] = []
  const log = pino(new Writable({ write (chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } }))
  hidden = false
  const outcome = await reloadWithLog(() => router.rescan(), log, 'SIGHUP')
  t.same(outcome.changes.map((c) => [c.kind, c.route.prefix]), [['added', '/late/ui/']])
  const [line] = lines
  t.match(line, { level: 30, trigger: 'SIGHUP', added: ['/late/ui/'], removed: [], changed: [] })
  t.match(line?.msg, /^reload finished in \d+(\.\d)? ms: 1 route added, 0 removed, 0 changed$/)
})

t.test('a failed reload says so, and that the last good table stays', async (t) => {
  const dir = makeTempDir(t)
  let fail = false
  const reader: SnapshotReader = async (...args) => {
    if (fail) throw new Error('injected: the disk went away')
    return await readSnapshot(...args)
  }
  const { router } = await startTestRouter(t, { socketDir: dir, readSnapshot: reader })
  const lines: Record<string, unknown>[] = []
  const log = pino(new Writable({ write (chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } }))
  fail = true
  await reloadWithLog(() => router.rescan(), log, 'SIGHUP')
  t.match(lines[0], { level: 40, error: 'injected: the disk went away', msg: /^reload failed after .* ms; the last good route table stays in force: injected/ })
})

/** Opens a tunnel through the router and returns both ends. */
async function tunnelPair (port: number, backend: Awaited<ReturnType<typeof startWsBackend>>): Promise<{ client: WebSocket, server: WebSocket }> {
  const serverSide = backend.nextConnection()
  const client = await openClient(`ws://127.0.0.1:${port}/svc/ws/`)
  client.on('error', () => {})
  const server = await serverSide
  client.send('hi')
  await nextMessage(client)
  return { client, server }
}

t.test('a normal WebSocket close, from either side, is logged as a clean end and never as an error', async (t) => {
  const dir = makeTempDir(t)
  const backend = await startWsBackend(t, join(dir, 'svc', 'ws.sock'))
  const { port, logs, waitForLogs } = await startTestRouter(t, { socketDir: dir })
  const ends: Array<[string, (pair: { client: WebSocket, server: WebSocket }) => void]> = [
    ['client 1000', ({ client }) => client.close(1000)],
    ['client 1001', ({ client }) => client.close(1001)],
    ['server 1000', ({ server }) => server.close(1000)],
    ['server 1001', ({ server }) => server.close(1001)],
    ['plain TCP close by the client', ({ client }) => client.terminate()],
    ['plain TCP close by the server', ({ server }) => server.terminate()]
  ]
  for (const [index, [what, end]] of ends.entries()) {
    const pair = await tunnelPair(port, backend)
    end(pair)
    await withTimeout(once(pair.client, 'close'), 10_000, `${what}: the client side closing`)
    const [closed] = (await waitForLogs((l) => l.msg === 'websocket tunnel closed', index + 1)).slice(index)
    t.match(closed, { level: 30, reason: 'end' }, `${what}: reason "end" at info`)
  }
  t.same(logs.filter((l) => (l.level as number) >= 40).map((l) => l.msg), [], 'no warning or error lines at all')
})
