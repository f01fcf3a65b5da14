// A node:cluster worker for test/cluster-observability-units.test.ts: a real router on its own unix listener,
// answering the primary (the test) over a real ClusterChannel, before --workers' own core is wired (issue #14).
import cluster from 'node:cluster'
import pino from 'pino'
import { ClusterChannel, type ChannelPort } from '../../src/cluster/cluster-channel.js'
import { serveWorkerObservability } from '../../src/cluster/cluster-observability.js'
import { startRouter } from '../../src/start-router.js'
import type { TunnelAdmin } from '../../src/admin/admin-api-deps.js'

const [socketDir, listenPath] = process.argv.slice(2) as [string, string]
const worker = String(cluster.worker?.id ?? 0)
const toPrimary = new ClusterChannel(process as unknown as ChannelPort)
const router = await startRouter({
  socketDir,
  listen: [{ kind: 'unix', path: listenPath }],
  upstreamTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  shutdownGraceMs: 500,
  healthIntervalMs: 0,
  logger: pino({ level: 'silent' })
})
// Tunnel ids as --workers makes them, `<worker>-<n>`, so they are unique across the router.
const registry = router.tunnels.registry
const tunnels: TunnelAdmin = {
  list: () => registry.list().map((t) => ({ ...t, id: `${worker}-${t.id}` })),
  close: async (id) => id.startsWith(`${worker}-`) ? await registry.close(id.slice(worker.length + 1)) : false
}
const seen = await serveWorkerObservability({ toPrimary, store: router.store, metrics: router.metrics, health: router.health, tunnels })
// What this worker's admin surface would answer: the test asks it here.
toPrimary.handle('test:metrics', async ({ perWorker }: { perWorker: boolean }) => await seen.wholeRouter.metrics(perWorker))
toPrimary.handle('test:state', async () => await seen.wholeRouter.state())
toPrimary.handle('test:tunnels', async () => await seen.tunnels.list())
toPrimary.handle('test:cut', async ({ id }: { id: string }) => await seen.tunnels.close(id))
toPrimary.handle('test:stop', async () => {
  await router.close()
  setImmediate(() => process.exit(0))
  return true
})
toPrimary.emit('ready', { worker })
