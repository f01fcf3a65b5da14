import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { ClientOptions, WebSocket } from 'ws'
import { adminOverUnix } from './helpers/admin-client.js'
import { clusterReady } from './helpers/cluster-router.js'
import { startCli, type RunningCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { withTimeout } from './helpers/wait-for.js'
import { openClient, startWsBackend } from './helpers/ws-backend.js'

/**
 * Issue #14: a route's `maxTunnels` and `--max-tunnels-per-ip` hold for the
 * whole router under `--workers 2`, not per worker. Every tunnel has its own
 * path, so its `websocket tunnel open` line says which worker holds it; the
 * tunnels API (ids `<worker>-<n>`) says the same. Each worker alone stays
 * under the limit, so only the primary's lease book can refuse.
 */

interface Held { readonly ws: WebSocket, readonly worker: number }

let opened = 0

/** A tunnel over a fresh connection, and the worker that opened it. */
async function openTunnel (cli: RunningCli, base: string, options: ClientOptions = {}): Promise<Held> {
  const path = `${base}t${++opened}`
  const ws = await openClient(path, undefined, options)
  const url = new URL(path).pathname
  const line = await cli.waitForLine((l) => l.msg === 'websocket tunnel open' && l.url === url && typeof l.worker === 'number')
  return { ws, worker: line.worker as number }
}

/** Opens tunnels until `count` are open with both workers holding some; the extra ones on a full worker are closed. */
async function openOnBothWorkers (t: { teardown (fn: () => unknown): void }, cli: RunningCli, base: string, count: number, options: ClientOptions = {}): Promise<Held[]> {
  const held: Held[] = []
  for (let tries = 0; held.length < count; tries++) {
    if (tries > 20) throw new Error(`after ${tries} tunnels, ${held.length} open on workers ${held.map((h) => h.worker).join(', ')}`)
    const tunnel = await openTunnel(cli, base, options)
    t.teardown(() => tunnel.ws.terminate())
    // The last slot is kept only if it leaves both workers holding some.
    const allOnOne = held.every((h) => h.worker === tunnel.worker)
    if (held.length < count - 1 || !allOnOne) held.push(tunnel)
    else await closeTunnel(tunnel)
  }
  return held
}

async function closeTunnel (tunnel: Held): Promise<void> {
  const closed = new Promise((resolve) => tunnel.ws.once('close', resolve))
  tunnel.ws.close()
  await withTimeout(closed, 10_000, 'a tunnel to close')
}

async function tunnelsApi (admin: string): Promise<{ id: string, route: string, client: string }[]> {
  const res = await adminOverUnix(admin, '/_sockrouter/api/tunnels')
  return res.json?.tunnels as { id: string, route: string, client: string }[]
}

/**
 * Until the tunnels API lists `count` tunnels. A worker gives its lease back
 * over the same pipe before it answers the primary's list, so once the list
 * is short the slot is free router-wide.
 */
async function untilListed (admin: string, count: number): Promise<{ id: string, route: string, client: string }[]> {
  const until = Date.now() + 10_000
  for (;;) {
    const tunnels = await tunnelsApi(admin)
    if (tunnels.length === count) return tunnels
    if (Date.now() > until) throw new Error(`the tunnels API lists ${tunnels.length} tunnels, not ${count}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

async function refusal (url: string, options: ClientOptions = {}): Promise<{ status?: number, headers?: Record<string, string> } | null> {
  return await openClient(url, undefined, options).then((ws) => { ws.terminate(); return null }, (err: { status?: number, headers?: Record<string, string> }) => err)
}

t.test('--workers 2: a route\'s maxTunnels and --max-tunnels-per-ip hold for the whole router', async (t) => {
  const dir = makeTempDir(t)
  const sockets = join(dir, 's')
  await startWsBackend(t, join(sockets, 'chat', 'ws.sock'))
  const services = join(dir, 'services.d')
  mkdirSync(services)
  writeFileSync(join(services, 'limited.yaml'), 'routes:\n  - prefix: /limited\n    socket: chat/ws.sock\n    maxTunnels: 2\n')
  const admin = join(dir, 'admin.sock')
  const cli = startCli(t, ['--workers', '2', '--socket-dir', sockets, '--services-dir', services, '--listen', '127.0.0.1:0', '--admin-listen', `unix:${admin}`, '--max-tunnels-per-ip', '3', '--health-interval', '0', '--log-format', 'json'])
  const { address } = await clusterReady(cli)

  await t.test('a route\'s maxTunnels is the whole router\'s: one tunnel on each worker fills 2, and a closed one frees its slot', async (t) => {
    const base = `ws://${address}/limited/`
    const held = await openOnBothWorkers(t, cli, base, 2)
    t.same(held.map((h) => h.worker).sort(), [1, 2], 'one tunnel on each worker, each under the route\'s 2 on its own')
    const listed = await untilListed(admin, 2)
    t.same(listed.map((x) => Number(x.id.split('-')[0])).sort(), [1, 2], 'the tunnels API agrees: ids are <worker>-<n>')
    t.ok(listed.every((x) => x.route === '/limited/'), 'both on the limited route')

    const refused = await refusal(`${base}third`)
    t.equal(refused?.status, 503, 'the third tunnel on the route is refused')
    t.equal(refused?.headers?.['retry-after'], '5', 'with Retry-After, as in one process')

    await closeTunnel(held[0] as Held)
    await untilListed(admin, 1)
    const again = await openTunnel(cli, base)
    t.teardown(() => again.ws.terminate())
    t.pass(`a tunnel closed on worker ${(held[0] as Held).worker} frees a slot: the next one opens on worker ${again.worker}`)
    t.equal((await refusal(`${base}fourth`))?.status, 503, 'and the route is full again')

    await closeTunnel(again)
    await closeTunnel(held[1] as Held)
    await untilListed(admin, 0)
  })

  await t.test('--max-tunnels-per-ip is the whole router\'s: 3 from one address across both workers, others still admitted', async (t) => {
    const base = `ws://${address}/chat/ws/`
    const held = await openOnBothWorkers(t, cli, base, 3)
    t.same([...new Set(held.map((h) => h.worker))].sort(), [1, 2], 'both workers hold some, neither all 3')
    t.ok((await untilListed(admin, 3)).every((x) => x.client.startsWith('127.0.0.1:')), 'all three from 127.0.0.1')

    const refused = await refusal(`${base}fourth`)
    t.equal(refused?.status, 503, 'the fourth from 127.0.0.1 is refused')
    t.equal(refused?.headers?.['retry-after'], '5', 'with Retry-After')

    // Another loopback address is another client: the limit is per IP, not the router's total.
    const other = await openTunnel(cli, base, { localAddress: '127.0.0.2' })
    t.teardown(() => other.ws.terminate())
    t.ok((await untilListed(admin, 4)).some((x) => x.client.startsWith('127.0.0.2:')), 'a tunnel from 127.0.0.2 opens')

    await closeTunnel(held[0] as Held)
    await untilListed(admin, 3)
    const again = await openTunnel(cli, base)
    t.teardown(() => again.ws.terminate())
    t.pass(`a tunnel closed on worker ${(held[0] as Held).worker} frees the address's slot: the next one opens on worker ${again.worker}`)
  })

  t.equal(await cli.stop(), 0, 'the router drains and exits 0')
})
