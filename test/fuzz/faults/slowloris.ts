/**
 * Slowloris (issue #10, defect 8): connections from 127.0.0.2 and
 * 127.0.0.3 trickle header bytes at one byte a second, while a legitimate
 * client on 127.0.0.1 asks every 200 ms. Measures whether the legitimate
 * client is still served, how many fds the router holds, and when the
 * router itself closes the tricklers (its header timeout). Rerun after the
 * connection caps and header timeout land: `npm run fuzz -- --faults --only slowloris`.
 * FUZZ_SLOWLORIS_CONNECTIONS and FUZZ_SLOWLORIS_SECONDS change the load.
 */
import { connect, type Socket } from 'node:net'
import { histogram, ms, percentile, rawRequest, socketPathFor, startFaultBackend, waitForFds, waitForStatus, type FaultContext, type FaultResult, type Scenario } from './fault-tools.js'

const CONNECTIONS = Number(process.env.FUZZ_SLOWLORIS_CONNECTIONS ?? 4000)
/** Longer than Node's 60 s headersTimeout plus its 30 s check interval, so the router's own cut shows. */
const HOLD_SECONDS = Number(process.env.FUZZ_SLOWLORIS_SECONDS ?? 100)
const ATTACKERS = ['127.0.0.2', '127.0.0.3']

interface Trickler { socket: Socket, openedAt: number, closedAt: number | null }

export const slowloris: Scenario = {
  id: 'slowloris',
  title: 'Slowloris held',
  async run (ctx: FaultContext): Promise<FaultResult> {
    const port = ctx.router.port
    const backend = await startFaultBackend(socketPathFor(ctx, 'sl'))
    await waitForStatus(port, '/fz/sl/', (s) => s === 200, 10_000)
    const fds0 = ctx.router.usage().fds
    const tricklers: Trickler[] = []
    let connected = 0
    for (let i = 0; i < CONNECTIONS; i++) {
      const socket = connect({ port, host: '127.0.0.1', localAddress: ATTACKERS[i % ATTACKERS.length] as string })
      const t: Trickler = { socket, openedAt: performance.now(), closedAt: null }
      const cut = (): void => { t.closedAt ??= performance.now() }
      socket.on('error', () => {})
      socket.on('connect', () => { connected++; socket.write(`GET /fz/sl/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `) })
      // Read what the router sends (its 408, its FIN): an unread socket never sees 'end'.
      socket.on('data', cut)
      socket.on('end', cut)
      socket.on('close', cut)
      tricklers.push(t)
      if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve))
    }
    const drip = setInterval(() => {
      for (const t of tricklers) if (t.closedAt === null && t.socket.writable) t.socket.write('a')
    }, 1000)
    const legit: { status: number | null, ms: number }[] = []
    let peakFds = 0
    const until = performance.now() + HOLD_SECONDS * 1000
    while (performance.now() < until) {
      const tick = performance.now()
      const r = await rawRequest(port, '/fz/sl/', { timeoutMs: 5000 })
      legit.push({ status: r.status, ms: r.ms })
      peakFds = Math.max(peakFds, ctx.router.usage().fds)
      const wait = 200 - (performance.now() - tick)
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    }
    clearInterval(drip)
    const cut = tricklers.filter((t) => t.closedAt !== null).map((t) => ((t.closedAt as number) - t.openedAt) / 1000)
    for (const t of tricklers) t.socket.destroy()
    const fds = await waitForFds(ctx.router, fds0, 15_000)
    await backend.kill()
    const ok = legit.filter((l) => l.status === 200)
    const times = ok.map((l) => l.ms)
    return {
      id: this.id,
      title: this.title,
      ok: fds <= fds0 && ok.length === legit.length,
      figures: [
        `${CONNECTIONS.toLocaleString('en')} connections from ${ATTACKERS.join(' and ')} (${connected} connected) trickling header bytes at 1 byte/s for up to ${HOLD_SECONDS} s; one request every 200 ms from 127.0.0.1`,
        `legitimate requests: ${ok.length}/${legit.length} got 200 (${histogram(legit.map((l) => l.status))}); ${ms(percentile(times, 50))} p50, ${ms(percentile(times, 99))} p99`,
        `router fds ${fds0} before, ${peakFds} at peak, ${fds} after the tricklers left`,
        cut.length === 0
          ? `the router closed none of the tricklers within ${HOLD_SECONDS} s`
          : `the router answered or closed ${cut.length}/${CONNECTIONS} tricklers itself (its header timeout), ${percentile(cut, 0).toFixed(1)} s to ${Math.max(...cut).toFixed(1)} s after they connected (p50 ${percentile(cut, 50).toFixed(1)} s)`
      ]
    }
  }
}
