import { join } from 'node:path'
import t from 'tap'
import type { WebSocket } from 'ws'
import { adminOverUnix } from './helpers/admin-client.js'
import { startBackend } from './helpers/backend.js'
import { clusterReady, spreadUntilServedBy } from './helpers/cluster-router.js'
import { openEventStream } from './helpers/event-stream.js'
import { httpGet } from './helpers/http-client.js'
import { scrapeMetrics } from './helpers/metrics-scrape.js'
import { startCli, type RunningCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { withTimeout } from './helpers/wait-for.js'
import { openClient, startWsBackend } from './helpers/ws-backend.js'

/**
 * `--workers 2` (issue #14), the real CLI, one router for every check: the
 * metrics, the live state and the tunnels API answered by either worker
 * show the whole router. node:cluster hands each new connection to the next
 * worker; the access log's `worker` field says which one served it.
 */

const BODY = 'x'.repeat(10_000)

const tunnelOpeners = (cli: RunningCli): number[] =>
  cli.lines.filter((l) => l.msg === 'websocket tunnel open' && typeof l.worker === 'number').map((l) => l.worker as number)

/** Opens tunnels over fresh connections until one is open on each of `workers`; closes the extra ones. */
async function tunnelOnEach (t: { teardown (fn: () => unknown): void }, cli: RunningCli, url: string, workers: readonly number[]): Promise<Map<number, WebSocket>> {
  const held = new Map<number, WebSocket>()
  for (let tries = 0; held.size < workers.length; tries++) {
    if (tries > 20) throw new Error(`after ${tries} tunnels, open on workers ${[...held.keys()].join(', ')} only`)
    const before = tunnelOpeners(cli).length
    const ws = await openClient(url)
    t.teardown(() => ws.terminate())
    await cli.waitForLine(() => tunnelOpeners(cli).length > before)
    const worker = tunnelOpeners(cli)[before] as number
    if (held.has(worker)) ws.close()
    else held.set(worker, ws)
  }
  return held
}

t.test('--workers 2: metrics, state and the tunnels API show the whole router, from either worker', async (t) => {
  const dir = makeTempDir(t)
  const sockets = join(dir, 's')
  const admin = join(dir, 'admin.sock')
  await startBackend(t, join(sockets, 'app', 'api.sock'), (_req, res) => { res.end(BODY) })
  await startWsBackend(t, join(sockets, 'chat', 'ws.sock'))
  const cli = startCli(t, ['--workers', '2', '--socket-dir', sockets, '--listen', '127.0.0.1:0', '--admin-listen', `unix:${admin}`, '--health-interval', '0', '--log-format', 'json'])
  const { address } = await clusterReady(cli)
  const base = `http://${address}`

  const served = await spreadUntilServedBy(cli, `${base}/app/api/hello`, [1, 2])
  const byWorker = (w: number): number => cli.lines.filter((l) => l.url === '/app/api/hello' && l.status === 200 && l.worker === w).length
  t.ok(served.every((r) => r.status === 200))
  const sent = served.length
  t.equal(byWorker(1) + byWorker(2), sent)

  await t.test('the request counter is the total sent, whichever worker answers the scrape', async (t) => {
    for (let i = 0; i < 2; i++) {
      const scrape = await scrapeMetrics(base)
      t.equal(scrape.status, 200)
      t.equal(scrape.samples.get('sockrouter_requests_total{route="/app/api/",code="200"}'), sent, `${byWorker(1)} on worker 1 + ${byWorker(2)} on worker 2`)
      t.equal(scrape.samples.get('sockrouter_request_duration_seconds_count{route="/app/api/"}'), sent)
    }
  })

  await t.test('router-wide gauges are counted once, not once per worker', async (t) => {
    const { samples, text } = await scrapeMetrics(base)
    t.equal(samples.get('sockrouter_routes{source="discovered",status="up"}'), 2, 'two routes, not four')
    t.equal(samples.get('sockrouter_config_errors'), 0)
    const health = ['healthy', 'unhealthy', 'unreachable', 'unknown'].map((s) => samples.get(`sockrouter_route_health{route="/app/api/",state="${s}"}`) ?? 0)
    t.equal(health.reduce((a, b) => a + b, 0), 1, 'one state per route')
    t.equal(text.match(/^# TYPE sockrouter_routes /gm)?.length, 1)
  })

  await t.test('?per_worker=1 keeps each worker\'s series apart under a worker label', async (t) => {
    const res = await httpGet(`${base}/_sockrouter/metrics?per_worker=1`)
    t.equal(res.status, 200)
    for (const w of [1, 2]) {
      t.match(res.text, `sockrouter_requests_total{route="/app/api/",code="200",worker="${w}"} ${byWorker(w)}\n`, `worker ${w}'s own count`)
    }
    t.match(res.text, /^sockrouter_routes\{source="discovered",status="up"\} 2$/m, 'router-wide gauges have no worker label')
  })

  const tunnels = await tunnelOnEach(t, cli, `ws://${address}/chat/ws/`, [1, 2])

  await t.test('the state sums both workers\' traffic and tunnels', async (t) => {
    for (let i = 0; i < 2; i++) {
      const res = await httpGet(`${base}/_sockrouter/state`)
      const state = JSON.parse(res.text) as { routes: { prefix: string, requestsPerSecond: number, tunnelsOpen: number, bytesOut: number }[] }
      const api = state.routes.find((r) => r.prefix === '/app/api/')
      const chat = state.routes.find((r) => r.prefix === '/chat/ws/')
      t.equal(state.routes.length, 2)
      // Each worker alone has sent only its share of the 10 kB bodies.
      t.ok((api?.bytesOut ?? 0) >= sent * BODY.length, `${api?.bytesOut ?? 0} bytes out: every body, from both workers`)
      t.ok((api?.requestsPerSecond ?? 0) >= sent / 10, `${api?.requestsPerSecond ?? 0}/s over at most 10 s`)
      t.equal(chat?.tunnelsOpen, 2, 'one tunnel on each worker')
    }
    // The live feed the dashboard and `sockrouter top` read: its pushes are whole-router states too.
    const feed = await openEventStream(t, `${base}/_sockrouter/events`)
    const pushed = await feed.next((s) => s.routes.some((r) => r.prefix === '/chat/ws/' && r.tunnelsOpen === 2), 'a pushed state with both workers\' tunnels', 1)
    t.ok((pushed.routes.find((r) => r.prefix === '/app/api/')?.bytesOut ?? 0) >= sent * BODY.length, 'and both workers\' bytes')
    feed.close()
  })

  await t.test('the tunnels API lists both workers\' tunnels, and cuts each whichever worker answers', async (t) => {
    const listed = await adminOverUnix(admin, '/_sockrouter/api/tunnels')
    const ids = (listed.json?.tunnels as { id: string }[]).map((x) => x.id)
    t.equal(ids.length, 2)
    t.same(ids.map((id) => id.split('-')[0]).sort(), ['1', '2'], 'ids are <worker>-<n>')
    for (const id of ids) {
      const ws = tunnels.get(Number(id.split('-')[0])) as WebSocket
      const closed = new Promise((resolve) => ws.once('close', resolve))
      const cut = await adminOverUnix(admin, `/_sockrouter/api/tunnels/${id}`, { method: 'DELETE' })
      t.equal(cut.status, 200, `DELETE ${id}`)
      t.same(cut.json, { id, closed: true })
      await withTimeout(closed, 10_000, `tunnel ${id} closed`)
    }
    t.same((await adminOverUnix(admin, '/_sockrouter/api/tunnels')).json, { tunnels: [] })
    t.equal((await adminOverUnix(admin, `/_sockrouter/api/tunnels/${ids[0] as string}`, { method: 'DELETE' })).status, 404, 'a tunnel already cut')
  })

  t.equal(await cli.stop(), 0)
})
