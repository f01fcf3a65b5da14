/**
 * A backend SIGKILLed with requests and tunnels in flight (issue #10): the
 * client of a request not yet answered gets a status (502), the client of a
 * half-sent response sees its connection end, every tunnel's client is
 * closed, and the router's fds come back.
 */
import { WebSocket } from 'ws'
import { histogram, ms, percentile, rawRequest, socketPathFor, startFaultBackend, waitForFds, waitForStatus, type FaultContext, type FaultResult, type Scenario } from './fault-tools.js'

const ROUNDS = 20
const TUNNEL_ROUNDS = 3
const TUNNELS_PER_ROUND = 200
const DEADLINE_MS = 10_000

export const killedMidRequest: Scenario = {
  id: 'killed-mid-request',
  title: 'Backend killed mid-request',
  async run (ctx: FaultContext): Promise<FaultResult> {
    const path = socketPathFor(ctx, 'kill')
    const fds0 = ctx.router.usage().fds
    const stalled: { status: number | null, afterKill: number }[] = []
    const held: { closed: boolean, afterKill: number }[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const backend = await startFaultBackend(path)
      await waitForStatus(ctx.router.port, '/fz/kill/', (s) => s === 200, DEADLINE_MS)
      const arrived = backend.waitFor('stall', DEADLINE_MS)
      const a = rawRequest(ctx.router.port, '/fz/kill/stall', { timeoutMs: DEADLINE_MS * 2 }).then((r) => ({ r, at: performance.now() }))
      let headIn: () => void = () => {}
      const head = new Promise<void>((resolve) => { headIn = resolve })
      const b = rawRequest(ctx.router.port, '/fz/kill/hold', { timeoutMs: DEADLINE_MS * 2, onStatus: () => headIn() }).then((r) => ({ r, at: performance.now() }))
      await Promise.all([arrived, head])
      const killedAt = performance.now()
      await backend.kill()
      const [ra, rb] = await Promise.all([a, b])
      stalled.push({ status: ra.r.status, afterKill: ra.at - killedAt })
      held.push({ closed: ra.r.closed && rb.r.closed, afterKill: rb.at - killedAt })
    }
    const fds = await waitForFds(ctx.router, fds0, 15_000)
    const allAnswered = stalled.every((s) => s.status === 502 && s.afterKill < DEADLINE_MS)
    const allClosed = held.every((h) => h.closed && h.afterKill < DEADLINE_MS)
    return {
      id: this.id,
      title: this.title,
      ok: allAnswered && allClosed && fds <= fds0,
      figures: [
        `${ROUNDS} kills, each with one request the backend held unanswered and one response cut after its first chunk`,
        `unanswered request: statuses ${histogram(stalled.map((s) => s.status))}; answered ${ms(percentile(stalled.map((s) => s.afterKill), 50))} after the kill (p50), ${ms(Math.max(...stalled.map((s) => s.afterKill)))} at most`,
        `cut response: connection closed in ${held.filter((h) => h.closed).length}/${ROUNDS}; ${ms(percentile(held.map((h) => h.afterKill), 50))} after the kill (p50), ${ms(Math.max(...held.map((h) => h.afterKill)))} at most`,
        `router fds ${fds0} before, ${fds} after`
      ]
    }
  }
}

/** One `ws` client through the router to /fz/tun/, from `localAddress`. */
export function openTunnel (port: number, localAddress: string, timeoutMs: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/fz/tun/`, { perMessageDeflate: false, localAddress, handshakeTimeout: timeoutMs })
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => { reject(new Error(`status ${res.statusCode ?? 0}`)); ws.terminate() })
  })
}

/** Sends one message and resolves true once anything comes back. */
export function echo (ws: WebSocket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    ws.once('message', () => { clearTimeout(timer); resolve(true) })
    ws.send('ping')
  })
}

export const killedMidTunnel: Scenario = {
  id: 'killed-mid-tunnel',
  title: 'Backend killed mid-tunnel',
  async run (ctx: FaultContext): Promise<FaultResult> {
    const path = socketPathFor(ctx, 'tun')
    const fds0 = ctx.router.usage().fds
    const closeTimes: number[] = []
    let echoed = 0
    let unclosed = 0
    for (let round = 0; round < TUNNEL_ROUNDS; round++) {
      const backend = await startFaultBackend(path)
      await waitForStatus(ctx.router.port, '/fz/tun/', (s) => s === 200, DEADLINE_MS)
      const tunnels = await Promise.all(Array.from({ length: TUNNELS_PER_ROUND }, () => openTunnel(ctx.router.port, '127.0.0.1', DEADLINE_MS)))
      echoed += (await Promise.all(tunnels.map((ws) => echo(ws, DEADLINE_MS)))).filter(Boolean).length
      const killedAt = performance.now()
      const closed = tunnels.map((ws) => new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), DEADLINE_MS)
        ws.once('close', () => { clearTimeout(timer); resolve(performance.now() - killedAt) })
      }))
      await backend.kill()
      for (const t of await Promise.all(closed)) {
        if (t === null) unclosed++
        else closeTimes.push(t)
      }
      for (const ws of tunnels) ws.terminate()
    }
    const fds = await waitForFds(ctx.router, fds0, 15_000)
    const total = TUNNEL_ROUNDS * TUNNELS_PER_ROUND
    return {
      id: this.id,
      title: this.title,
      ok: unclosed === 0 && echoed === total && fds <= fds0,
      figures: [
        `${TUNNEL_ROUNDS} kills, each under ${TUNNELS_PER_ROUND} open WebSocket tunnels (${echoed}/${total} echoed a message first)`,
        `client side closed in ${total - unclosed}/${total} tunnels within ${DEADLINE_MS / 1000} s; ${ms(percentile(closeTimes, 50))} after the kill (p50), ${ms(percentile(closeTimes, 99))} (p99), ${ms(Math.max(...closeTimes))} at most`,
        `router fds ${fds0} before, ${fds} after`
      ]
    }
  }
}
