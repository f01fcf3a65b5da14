import t from 'tap'
import type { WorkerChannel } from '../../src/cluster/ask-every-worker.js'
import { fetchRouterState, serveActivity } from '../../src/cluster/cluster-live-state.js'
import { fetchRouterMetrics } from '../../src/cluster/cluster-metrics.js'
import { PrimaryObservability } from '../../src/cluster/cluster-observability.js'
import type { RecentError } from '../../src/metrics/recent-errors.js'
import { RouteStore } from '../../src/routing/route-store.js'
import { channelPair } from '../helpers/channel-pair.js'

// The primary's answers to a worker's admin surface under --workers (issue #14), over in-memory pipes: the
// router-wide facts come from the primary, the traffic from every worker, and a worker whose primary is gone
// answers 503 rather than its own part as if it were the whole. Through the CLI: test/cluster-observability.test.ts.

const recentError = (at: string, worker: string): RecentError => ({ at, route: '/a/', method: 'GET', path: `/a/from-worker-${worker}`, status: 502, code: 'bad_gateway' })

t.test('a worker\'s state comes from the primary: its version, config errors and rescan failure, and every worker\'s errors', async (t) => {
  const store = new RouteStore()
  const workerPipes = [channelPair(), channelPair()]
  workerPipes.forEach((pipe, i) => {
    serveActivity(pipe.worker, {
      store,
      activity: { counts: () => new Map(), recentErrors: () => [recentError(`2026-12-01T00:00:0${i}.000Z`, String(i + 1))] },
      health: { get: () => ({ state: 'unknown', since: 0, cause: null }) }
    })
  })
  const workers = (): WorkerChannel[] => workerPipes.map((pipe, i) => ({ id: String(i + 1), channel: pipe.primary }))
  const observability = new PrimaryObservability({
    workers,
    state: { store, startedAt: Date.now(), version: '9.9.9', configErrors: () => ['services.d/bad.yaml: prefix is required'], rescanFailure: () => ({ message: 'EACCES', since: '2026-12-01T00:00:00.000Z' }), health: { get: () => ({ state: 'unknown', since: 0, cause: null }) } }
  })
  const asking = channelPair()
  observability.attach(asking.primary)

  const state = await fetchRouterState(asking.worker)
  t.match(state.router, { version: '9.9.9', status: 'degraded', configErrors: ['services.d/bad.yaml: prefix is required'], rescanError: { message: 'EACCES' } })
  t.same(state.errors.map((e) => e.path), ['/a/from-worker-2', '/a/from-worker-1'], 'both workers\' recent errors, newest first')

  const metrics = await fetchRouterMetrics(asking.worker, false)
  t.match(metrics.contentType, /^text\/plain/)
  t.match(metrics.text, /^sockrouter_config_errors 1$/m, 'the primary\'s router-wide gauge, once')
  for (const pipe of [...workerPipes, asking]) { pipe.primary.close(); pipe.worker.close() }
})

t.test('a worker whose primary is gone: the metrics endpoint gets a 503, the state request rejects', async (t) => {
  const { worker, ports } = channelPair()
  ports[1].connected = false
  await t.rejects(fetchRouterMetrics(worker, true), { code: 'service_unavailable', message: 'The router\'s metrics could not be gathered from its workers.' })
  await t.rejects(fetchRouterState(worker), { code: 'cluster_channel' })
  worker.close()
})
