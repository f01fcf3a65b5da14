import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { once } from 'node:events'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter, waitForTable } from './helpers/router.js'
import { writeRouteFile } from './helpers/services-dir.js'

/** Rejects after `ms`: a deadline for a promise that must settle. */
function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms) })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

t.test('a route file removed and restored serves at once while an old SSE stream stays open', async (t) => {
  const root = makeTempDir(t)
  const servicesDir = join(root, 'd')
  const socketPath = join(root, 'x', 'sse.sock')
  await startBackend(t, socketPath, (req, res) => {
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: first\n\n')
      return
    }
    res.end('plain')
  })
  const file = `routes:\n  - prefix: /live\n    socket: ${socketPath}\n`
  writeRouteFile(servicesDir, 'live.yaml', file)
  const { router, port, url } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })

  const stream = request({ port, path: '/live/events', agent: false })
  stream.end()
  const [sse] = await once(stream, 'response') as [import('node:http').IncomingMessage]
  await once(sse, 'data')
  t.teardown(() => stream.destroy())

  const gone = waitForTable(router, (table) => !table.byKey.has('live'), 2000, 'the route to go')
  rmSync(join(servicesDir, 'live.yaml'))
  await gone
  t.equal((await httpGet(`${url}/live/`)).status, 404, 'the removed route no longer routes')

  const back = waitForTable(router, (table) => table.byKey.has('live'), 2000, 'the route to come back')
  writeRouteFile(servicesDir, 'live.yaml', file)
  await back
  for (let i = 0; i < 3; i++) {
    const res = await httpGet(`${url}/live/`)
    t.equal(res.status, 200, `request ${i + 1} after the restore is served`)
    t.equal(res.text, 'plain')
  }
  t.notOk(sse.complete, 'the old stream is still open')
})

t.test('a reload that leaves a route alone never fails its requests', async (t) => {
  const root = makeTempDir(t)
  const servicesDir = join(root, 'd')
  const socketPath = join(root, 'x', 'a.sock')
  await startBackend(t, socketPath)
  writeRouteFile(servicesDir, 'a.yaml', `routes:\n  - prefix: /a\n    socket: ${socketPath}\n`)
  const { router, url } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })
  t.equal((await httpGet(`${url}/a/`)).status, 200)
  const other = waitForTable(router, (table) => table.byKey.has('b'), 2000, 'the other route')
  writeRouteFile(servicesDir, 'b.yaml', `routes:\n  - prefix: /b\n    socket: ${socketPath}\n`)
  await other
  t.equal((await httpGet(`${url}/a/`)).status, 200, 'the untouched route still serves')
  t.equal((await httpGet(`${url}/b/`)).status, 200, 'the new route serves')
})

/**
 * A TCP listener that completes no more handshakes: a child process listens
 * with a backlog of 1 and is stopped, and the backlog is filled, so the
 * kernel drops every further SYN and a connect hangs until its timeout.
 */
async function startBlackhole (t: { teardown (fn: () => unknown): void }): Promise<number> {
  const child = spawn(process.execPath, ['-e', `
    const s = require('node:net').createServer()
    s.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => console.log(s.address().port))
  `], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => child.kill('SIGKILL'))
  const [chunk] = await once(child.stdout, 'data') as [Buffer]
  const port = Number(chunk.toString().trim())
  child.kill('SIGSTOP')
  const fillers: Socket[] = []
  t.teardown(() => { for (const s of fillers) s.destroy() })
  // Fill the accept queue; a filler that cannot connect tells us it is full.
  for (let i = 0; i < 8; i++) {
    const s = connect(port, '127.0.0.1')
    s.on('error', () => {})
    fillers.push(s)
    const connected = await Promise.race([
      once(s, 'connect').then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300))
    ])
    if (!connected) break
  }
  return port
}

t.test('a changed timeouts.connect takes effect without a restart', async (t) => {
  const root = makeTempDir(t)
  const servicesDir = join(root, 'd')
  const port = await startBlackhole(t)
  const routeFile = (connectTimeout: string): string => `routes:\n  - prefix: /hole\n    url: http://127.0.0.1:${port}\n    timeouts:\n      connect: ${connectTimeout}\n`
  writeRouteFile(servicesDir, 'hole.yaml', routeFile('60s'))
  const { router, url } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })

  // The first request opens the route's pool with the 60 s connect timeout; it stays pending.
  const first = httpGet(`${url}/hole/first`).catch(() => null)
  void first
  const changed = waitForTable(router, (table) => table.byKey.get('hole')?.options.timeouts.connectMs === 300, 2000, 'the new connect timeout')
  writeRouteFile(servicesDir, 'hole.yaml', routeFile('300ms'))
  await changed
  const res = await within(httpGet(`${url}/hole/second`), 10_000, 'the request under the new connect timeout')
  t.equal(res.status, 504, 'the new 300 ms connect timeout applies')
})
