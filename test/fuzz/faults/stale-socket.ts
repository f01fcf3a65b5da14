/**
 * A socket file nobody listens on, as a crashed service leaves (issue #10):
 * every request gets a prompt 502 or 503, never a hang, and once a backend
 * binds the path again the route serves.
 */
import { rmSync } from 'node:fs'
import { histogram, ms, percentile, rawRequest, socketPathFor, startFaultBackend, makeStaleSocket, waitForFds, waitForStatus, type FaultContext, type FaultResult, type Scenario } from './fault-tools.js'

const REQUESTS = 500
const CONCURRENCY = 10

export const staleSocket: Scenario = {
  id: 'stale-socket',
  title: 'Stale socket',
  async run (ctx: FaultContext): Promise<FaultResult> {
    const path = socketPathFor(ctx, 'stale')
    const fds0 = ctx.router.usage().fds
    await makeStaleSocket(path)
    await waitForStatus(ctx.router.port, '/fz/stale/', (s) => s !== null && s !== 404, 10_000)
    const replies: { status: number | null, ms: number }[] = []
    let next = 0
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < REQUESTS) {
        const r = await rawRequest(ctx.router.port, '/fz/stale/x', { timeoutMs: 10_000 })
        replies.push({ status: r.status, ms: r.ms })
      }
    }))
    const started = performance.now()
    rmSync(path, { force: true })
    const backend = await startFaultBackend(path)
    const recovered = await waitForStatus(ctx.router.port, '/fz/stale/', (s) => s === 200, 10_000)
    const bound = performance.now() - started - recovered
    await backend.kill()
    const fds = await waitForFds(ctx.router, fds0, 15_000)
    const times = replies.map((r) => r.ms)
    const prompt = replies.every((r) => (r.status === 502 || r.status === 503) && r.ms < 5000)
    return {
      id: this.id,
      title: this.title,
      ok: prompt && fds <= fds0,
      figures: [
        `${REQUESTS} requests, ${CONCURRENCY} at a time, to a route whose socket file has no listener`,
        `statuses ${histogram(replies.map((r) => r.status))}; ${ms(percentile(times, 50))} p50, ${ms(percentile(times, 99))} p99, ${ms(Math.max(...times))} at most`,
        `a backend bound the path again: first 200 ${ms(recovered)} after it listened (backend start ${ms(bound)})`,
        `router fds ${fds0} before, ${fds} after`
      ]
    }
  }
}
