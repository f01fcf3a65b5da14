import { join } from 'node:path'
import t from 'tap'
import type { WebSocket } from 'ws'
import { startBackend } from './helpers/backend.js'
import { clusterReady, spreadUntilServedBy } from './helpers/cluster-router.js'
import { httpGet } from './helpers/http-client.js'
import { startCli, type RunningCli } from './helpers/run-cli.js'
import { makeStaleSocket } from './helpers/stale-socket.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { withTimeout } from './helpers/wait-for.js'
import { nextMessage, openClient, startWsBackend } from './helpers/ws-backend.js'

/**
 * `--workers 2` (issue #14), the real CLI, one router for all the checks
 * (start-up is the expensive part): routing on both workers, a route added
 * while running reaching both, router-wide tunnel limits, a killed worker
 * taking only its own connections and being replaced, SIGHUP and SIGTERM.
 * The access log's `worker` field says which worker served a request.
 */

const workerOf = (cli: RunningCli, predicate: (l: Record<string, unknown>) => boolean): number[] =>
  cli.lines.filter((l) => predicate(l) && typeof l.worker === 'number').map((l) => l.worker as number)

/** A tunnel and the worker that opened it (its `websocket tunnel open` line). */
async function openTunnel (cli: RunningCli, url: string): Promise<{ ws: WebSocket, worker: number }> {
  const before = workerOf(cli, (l) => l.msg === 'websocket tunnel open').length
  const ws = await openClient(url)
  await cli.waitForLine(() => workerOf(cli, (l) => l.msg === 'websocket tunnel open').length > before)
  return { ws, worker: workerOf(cli, (l) => l.msg === 'websocket tunnel open')[before] as number }
}

async function echoes (ws: WebSocket, text: string): Promise<string> {
  ws.send(text)
  return (await nextMessage(ws)).data.toString()
}

t.test('--workers 2: both workers route, see new routes, share tunnel limits, survive a killed worker, and drain on SIGTERM', async (t) => {
  const dir = makeTempDir(t)
  const sockets = join(dir, 's')
  await startBackend(t, join(sockets, 'svc', 'ui.sock'))
  await startWsBackend(t, join(sockets, 'svc', 'ws.sock'))
  // Left by a crashed router: the primary clears it before any worker listens.
  const unixListen = join(dir, 'router.sock')
  await makeStaleSocket(unixListen)
  // Its /health turns to 503 once the workers run: only the primary's probe can find that out.
  let sick = false
  await startBackend(t, join(sockets, 'svc', 'sick.sock'), (req, res) => { res.writeHead(req.url === '/health' && sick ? 503 : 200); res.end() })
  const services = join(dir, 'services.d')
  const cli = startCli(t, ['--workers', '2', '--socket-dir', sockets, '--services-dir', services, '--listen', '127.0.0.1:0', '--listen', `unix:${unixListen}`, '--max-tunnels', '2', '--health-interval', '1s', '--log-format', 'json'])
  const { address, pids } = await clusterReady(cli)
  t.same(Object.keys(pids).sort(), ['1', '2'], 'the primary says which workers it started')

  await t.test('HTTP is served by both workers', async (t) => {
    const results = await spreadUntilServedBy(cli, `http://${address}/svc/ui/hello`, [1, 2])
    t.ok(results.every((r) => r.status === 200), 'every request got 200')
    t.equal(cli.lines.filter((l) => l.msg === 'route added /svc/ui/ -> svc/ui.sock').length, 1, 'the route change is logged once, by the primary')
    t.notOk(cli.lines.some((l) => String(l.msg).startsWith('route added') && l.worker !== undefined), 'no worker logs route changes')
  })

  await t.test('a stale unix listener socket is cleared once, and both workers serve on it', async (t) => {
    t.equal(cli.lines.filter((l) => l.address === `unix:${unixListen}` && typeof l.worker === 'number').length, 2, 'both workers listen on it')
    t.equal((await httpGet('http://localhost/svc/ui/over-unix', { socketPath: unixListen })).status, 200)
  })

  await t.test('a WebSocket echoes through a worker', async (t) => {
    const { ws } = await openTunnel(cli, `ws://${address}/svc/ws/echo`)
    t.equal(await echoes(ws, 'through a worker'), 'through a worker')
    ws.close()
    await cli.waitForLine((l) => l.msg === 'websocket tunnel closed')
  })

  await t.test('a socket added while running is routed by every worker', async (t) => {
    await startBackend(t, join(sockets, 'svc', 'late.sock'))
    await cli.waitForLine((l) => l.msg === 'route added /svc/late/ -> svc/late.sock')
    const results = await spreadUntilServedBy(cli, `http://${address}/svc/late/x`, [1, 2])
    t.ok(results.some((r) => r.status === 200))
    t.equal(cli.lines.filter((l) => l.msg === 'route added /svc/late/ -> svc/late.sock').length, 1, 'one watcher, one scan: logged once')
  })

  await t.test('the primary probes once, and its verdict reaches every worker', async (t) => {
    sick = true
    await cli.waitForLine((l) => l.prefix === '/svc/sick/' && l.health === 'unhealthy' && l.worker === undefined)
    // Fresh connections go to the workers in turn: four answers cover both.
    for (let i = 0; i < 4; i++) {
      const routes = JSON.parse((await httpGet(`http://${address}/_sockrouter/routes`)).text) as { routes: { prefix: string, health: string }[] }
      t.equal(routes.routes.find((r) => r.prefix === '/svc/sick/')?.health, 'unhealthy', `answer ${i + 1}: the worker has the primary's verdict`)
    }
    t.notOk(cli.lines.some((l) => l.prefix === '/svc/sick/' && l.health === 'unhealthy' && l.worker !== undefined), 'no worker logs it again')
  })

  await t.test('a route file written through a worker is rescanned by the primary and routed by every worker', async (t) => {
    const put = await httpGet('http://localhost/_sockrouter/api/route-files/api.yaml', {
      method: 'PUT',
      socketPath: unixListen,
      headers: { 'content-type': 'application/yaml' },
      body: 'routes:\n  - prefix: /api\n    socket: svc/ui.sock\n'
    })
    t.equal(put.status, 201, put.text)
    t.match(JSON.parse(put.text), { changes: [{ change: 'added', prefix: '/api/' }] }, 'the answer comes once the new table is in force')
    const results = await spreadUntilServedBy(cli, `http://${address}/api/v`, [1, 2])
    t.ok(results.every((r) => r.status === 200), 'both workers route it, every request a 200')
  })

  await t.test('SIGHUP rescans once, in the primary', async (t) => {
    cli.child.kill('SIGHUP')
    await cli.waitForLine((l) => l.trigger === 'SIGHUP' && String(l.msg).startsWith('reload finished'))
    // A request served after the reload line orders the workers' lines after it too.
    t.equal((await httpGet(`http://${address}/svc/ui/after-hup`)).status, 200)
    await cli.waitForLine((l) => l.url === '/svc/ui/after-hup')
    t.equal(cli.lines.filter((l) => String(l.msg).startsWith('reload finished')).length, 1, 'one reload line')
    t.notOk(cli.lines.some((l) => l.trigger === 'SIGHUP' && l.worker !== undefined), 'no worker rescans on its own')
  })

  await t.test('--max-tunnels holds across workers, and a killed worker loses only its own tunnels', async (t) => {
    const url = `ws://${address}/svc/ws/echo`
    // Two tunnels on different workers: each new connection goes to the next worker, so this ends quickly.
    let first = await openTunnel(cli, url)
    let second = await openTunnel(cli, url)
    const until = Date.now() + 20_000
    while (first.worker === second.worker) {
      if (Date.now() > until) throw new Error('every tunnel landed on the same worker')
      second.ws.terminate()
      await cli.waitForLine(() => cli.lines.filter((l) => l.msg === 'websocket tunnel closed').length >= 2)
      second = await openTunnel(cli, url)
    }
    t.teardown(() => { first.ws.terminate(); second.ws.terminate() })
    t.not(first.worker, second.worker, 'the two tunnels are on different workers')

    const refused = await openClient(url).then(() => null, (err: Error) => err)
    t.match(refused?.message, /503/, 'the third tunnel gets 503: the limit is the router\'s, not each worker\'s')

    // Kill the second tunnel's worker: its tunnel goes, the first one keeps echoing.
    const victim = second.worker
    const closed = new Promise<void>((resolve) => second.ws.once('close', () => resolve()))
    process.kill(pids[String(victim)] as number, 'SIGKILL')
    await withTimeout(closed, 10_000, 'the killed worker\'s tunnel to close')
    const died = await cli.waitForLine((l) => l.level === 50 && l.worker === victim && l.signal === 'SIGKILL')
    t.match(died.msg, /died \(signal SIGKILL\)/, 'the death is logged at error with its signal')
    t.equal(await echoes(first.ws, 'still here'), 'still here', 'the other worker\'s tunnel keeps echoing')

    const replaced = await cli.waitForLine((l) => typeof l.worker === 'number' && String(l.msg).startsWith('replacement worker'), 30_000)
    const replacement = replaced.worker as number
    t.notOk([1, 2].includes(replacement), 'the replacement has a new id')
    const results = await spreadUntilServedBy(cli, `http://${address}/svc/ui/replaced`, [first.worker, replacement])
    t.ok(results.some((r) => r.status === 200), 'the replacement serves')

    // The dead worker's lease went with it: one tunnel is open, so one more fits.
    const third = await openTunnel(cli, url)
    t.equal(await echoes(third.ws, 'a freed slot'), 'a freed slot', 'the dead worker\'s tunnel slot is free again')
    third.ws.terminate()
    first.ws.terminate()
  })

  await t.test('SIGTERM drains every worker and the primary exits 0', async (t) => {
    const code = await cli.stop('SIGTERM')
    t.equal(code, 0)
    t.ok(cli.lines.some((l) => l.msg === 'stopped' && l.worker === undefined), 'the primary says it stopped')
    t.equal(cli.lines.filter((l) => l.msg === 'worker stopped').length, 2, 'both live workers drained')
  })
})
