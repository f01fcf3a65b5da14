/**
 * 10,000 open WebSocket tunnels (issue #10), as many as the router's own
 * connection cap allows: each tunnel holds two router fds, and the default
 * `--max-connections` keeps 5% of the fd limit in reserve, so a 20,000-fd
 * limit caps it at 9,500. Clients come from ten loopback addresses, so the
 * default per-IP cap (1,000) is not what stops them. Measures the time to
 * open, the router's RSS per tunnel, an echo over every tunnel, and the
 * fds after all close.
 */
import { readFileSync } from 'node:fs'
import type { WebSocket } from 'ws'
import { maxConnectionsFor } from '../../../src/listen/open-file-limit.js'
import { echo, openTunnel } from './backend-killed.js'
import { MiB, ms, socketPathFor, startFaultBackend, waitForFds, waitForStatus, type FaultContext, type FaultResult, type Scenario } from './fault-tools.js'

const WANTED = 10_000
const CONCURRENCY = 100
const SOURCES = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 1}`)

function fdLimit (): number {
  const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))
  return Number(m?.[1] ?? 1024)
}

export const manyTunnels: Scenario = {
  id: 'tunnels',
  title: '10,000 tunnels',
  async run (ctx: FaultContext): Promise<FaultResult> {
    const limit = fdLimit()
    const count = Math.min(WANTED, maxConnectionsFor(limit))
    const backend = await startFaultBackend(socketPathFor(ctx, 'tun'))
    await waitForStatus(ctx.router.port, '/fz/tun/', (s) => s === 200, 10_000)
    const fds0 = ctx.router.usage().fds
    await ctx.router.gc()
    const rss0 = ctx.router.usage().rssBytes
    const tunnels: WebSocket[] = []
    let failed = 0
    let next = 0
    const started = performance.now()
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++
        try {
          tunnels.push(await openTunnel(ctx.router.port, SOURCES[i % SOURCES.length] as string, 10_000))
        } catch {
          failed++
        }
      }
    }))
    const openSeconds = (performance.now() - started) / 1000
    await ctx.router.gc()
    const open = ctx.router.usage()
    const echoStarted = performance.now()
    const echoed = (await Promise.all(tunnels.map((ws) => echo(ws, 30_000)))).filter(Boolean).length
    const echoMs = performance.now() - echoStarted
    const closeStarted = performance.now()
    for (const ws of tunnels) ws.close()
    const fds = await waitForFds(ctx.router, fds0, 30_000)
    const closeMs = performance.now() - closeStarted
    for (const ws of tunnels) ws.terminate()
    await backend.kill()
    const perTunnel = (open.rssBytes - rss0) / Math.max(1, tunnels.length)
    return {
      id: this.id,
      title: this.title,
      ok: failed === 0 && echoed === count && fds <= fds0,
      figures: [
        `${count.toLocaleString('en')} tunnels wanted ${WANTED.toLocaleString('en')}; the fd limit here is ${limit.toLocaleString('en')}, each tunnel holds 2 router fds, and the default --max-connections is ${maxConnectionsFor(limit).toLocaleString('en')}`,
        `opened ${tunnels.length.toLocaleString('en')} (${failed} failed) in ${openSeconds.toFixed(1)} s, ${CONCURRENCY} handshakes at a time from ${SOURCES.length} loopback addresses`,
        `router with all open: ${open.fds.toLocaleString('en')} fds, RSS ${(rss0 / MiB).toFixed(1)} → ${(open.rssBytes / MiB).toFixed(1)} MiB (${(perTunnel / 1024).toFixed(1)} KiB per tunnel)`,
        `an echo over every tunnel: ${echoed.toLocaleString('en')}/${count.toLocaleString('en')} in ${ms(echoMs)}`,
        `all closed by the clients: router fds back to ${fds} (from ${fds0} before) in ${ms(closeMs)}`
      ]
    }
  }
}
