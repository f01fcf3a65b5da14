// A node:cluster worker for test/cluster-observability-units.test.ts (issue #14): a small registry served to the
// primary (the test) the way a --workers worker serves its own, or, with OBS_SILENT, a worker still starting that
// has neither prom-client's listener nor ours yet.
import { Counter, Gauge, Registry } from 'prom-client'
import { ClusterChannel, type ChannelPort } from '../../src/cluster/cluster-channel.js'
import { serveMetrics } from '../../src/cluster/cluster-metrics.js'

const toPrimary = new ClusterChannel(process as unknown as ChannelPort)
if (process.env.OBS_SILENT === undefined) {
  const registry = new Registry()
  new Counter({ name: 'sockrouter_requests_total', help: 'requests', labelNames: ['route', 'code'], registers: [registry] })
    .inc({ route: '/a/', code: '200' }, Number(process.env.OBS_REQUESTS))
  // A router-wide gauge: the primary exports it once, a worker never does.
  new Gauge({ name: 'sockrouter_routes', help: 'routes', labelNames: ['source', 'status'], registers: [registry] })
    .set({ source: 'discovered', status: 'up' }, 1)
  serveMetrics(toPrimary, registry)
}
toPrimary.on('stop', () => { toPrimary.close(); process.disconnect() })
toPrimary.emit('ready', null)
