/**
 * Connection churn (issue #10): many short connections of three kinds (a
 * whole request, a request abandoned before its response, a connect and
 * close with no bytes); the router's fds come back exactly and its RSS
 * within the tolerance.
 */
import { connect } from 'node:net'
import { histogram, MiB, rawRequest, socketPathFor, startFaultBackend, waitForFds, waitForStatus, type FaultContext, type FaultResult, type Scenario } from './fault-tools.js'

const CONNECTIONS = 30_000
const CONCURRENCY = 50
const WARM_UP = 2_000
/** V8 and malloc keep pages they have used, so RSS may stay up without a leak; the live heap after a full GC may not. */
const HEAP_TOLERANCE_MIB = 4
const RSS_TOLERANCE_MIB = 32

function abandon (port: number, sendHead: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.on('error', () => {})
    socket.on('close', () => resolve())
    socket.on('connect', () => {
      if (sendHead) socket.write(`GET /fz/churn/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
      setImmediate(() => socket.destroy())
    })
  })
}

async function churn (port: number, count: number, statuses: (number | null)[]): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const kind = next++ % 3
      if (kind === 0) statuses.push((await rawRequest(port, '/fz/churn/', { timeoutMs: 10_000 })).status)
      else await abandon(port, kind === 1)
    }
  }))
}

export const connectionChurn: Scenario = {
  id: 'churn',
  title: 'Connection churn',
  async run (ctx: FaultContext): Promise<FaultResult> {
    const backend = await startFaultBackend(socketPathFor(ctx, 'churn'))
    await waitForStatus(ctx.router.port, '/fz/churn/', (s) => s === 200, 10_000)
    const fds0 = ctx.router.usage().fds
    await churn(ctx.router.port, WARM_UP, [])
    await waitForFds(ctx.router, fds0, 15_000)
    const heap0 = await ctx.router.gc()
    const rss0 = ctx.router.usage().rssBytes
    const statuses: (number | null)[] = []
    const started = performance.now()
    await churn(ctx.router.port, CONNECTIONS, statuses)
    const seconds = (performance.now() - started) / 1000
    const fds = await waitForFds(ctx.router, fds0, 15_000)
    const heap = await ctx.router.gc()
    const rss = ctx.router.usage().rssBytes
    await backend.kill()
    const growth = (rss - rss0) / MiB
    const heapGrowth = (heap - heap0) / MiB
    return {
      id: this.id,
      title: this.title,
      ok: fds <= fds0 && growth <= RSS_TOLERANCE_MIB && heapGrowth <= HEAP_TOLERANCE_MIB && statuses.every((s) => s === 200),
      figures: [
        `${CONNECTIONS.toLocaleString('en')} connections after ${WARM_UP.toLocaleString('en')} of warm-up, ${CONCURRENCY} at a time: a third complete requests, a third abandoned after the head, a third closed without a byte`,
        `${(CONNECTIONS / seconds).toFixed(0)} connections/s; complete requests: ${histogram(statuses)}`,
        `router fds ${fds0} before, ${fds} after`,
        `router after a full GC: live heap ${(heap0 / MiB).toFixed(1)} → ${(heap / MiB).toFixed(1)} MiB (tolerance +${HEAP_TOLERANCE_MIB} MiB), RSS ${(rss0 / MiB).toFixed(1)} → ${(rss / MiB).toFixed(1)} MiB (tolerance +${RSS_TOLERANCE_MIB} MiB)`
      ]
    }
  }
}
