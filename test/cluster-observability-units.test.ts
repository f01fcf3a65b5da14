import cluster, { type Worker } from 'node:cluster'
import { join } from 'node:path'
import t from 'tap'
import type { WorkerChannel } from '../src/cluster/ask-every-worker.js'
import { ClusterChannel, type ChannelPort } from '../src/cluster/cluster-channel.js'
import { RouterActivity, type WorkerActivity } from '../src/cluster/cluster-live-state.js'
import { PrimaryObservability } from '../src/cluster/cluster-observability.js'
import type { HealthRecord } from '../src/health/route-health.js'
import { mergeRouteActivity, type RouteActivityCounts } from '../src/metrics/route-activity.js'
import { RouteStore } from '../src/routing/route-store.js'
import { withoutChildCoverage } from './helpers/child-coverage.js'
import { withTimeout } from './helpers/wait-for.js'

// The primary-side aggregators of issue #14 on their own: the merges as pure functions, and the metrics over real
// node:cluster workers and real ClusterChannels with this process as the primary. The whole router behind them
// (--workers 2 through the CLI: state, events, tunnels) is test/cluster-observability.test.ts.

const WORKER = join(import.meta.dirname, 'helpers', 'observability-worker.ts')

function counts (requests: number, latency: number[], extra: Partial<RouteActivityCounts> = {}): RouteActivityCounts {
  return { requests, errors: 0, spanMs: 10_000, latency, tunnelsOpen: 0, bytesIn: 0, bytesOut: 0, ...extra }
}

t.test('merged activity: rates, errors, tunnels and bytes add up, percentiles come from the summed buckets', async (t) => {
  // Worker 1: 99 fast requests (bucket 10); worker 2: 1 slow one (bucket 150). Together the 99th of 100 is a fast
  // one and only the 100th slow: the largest of the workers' own p99s (worker 2's, slow) would be wrong.
  const merged = mergeRouteActivity([
    counts(99, [10, 99], { errors: 1, tunnelsOpen: 1, bytesIn: 10, bytesOut: 100 }),
    counts(1, [150, 1], { spanMs: 2000, errors: 1, tunnelsOpen: 2, bytesIn: 5, bytesOut: 50 })
  ])
  const fastOnly = mergeRouteActivity([counts(1, [10, 1])])
  const slowOnly = mergeRouteActivity([counts(1, [150, 1])])
  t.equal(merged.requestsPerSecond, 9.9 + 0.5, 'each worker\'s rate over its own window, summed')
  t.equal(merged.errorRate, 0.02)
  t.equal(merged.tunnelsOpen, 3)
  t.equal(merged.bytesIn, 15)
  t.equal(merged.bytesOut, 150)
  t.equal(merged.p50Ms, fastOnly.p50Ms)
  t.equal(merged.p99Ms, fastOnly.p99Ms, 'the 99th of 100 is one of the fast ones')
  t.not(merged.p99Ms, slowOnly.p99Ms)
  const mostlySlow = mergeRouteActivity([counts(1, [10, 1]), counts(99, [150, 99])])
  t.equal(mostlySlow.p50Ms, slowOnly.p50Ms, 'the second worker\'s buckets count as much as the first\'s')
  t.equal(mostlySlow.p99Ms, slowOnly.p99Ms)
  t.same(mergeRouteActivity([]), { requestsPerSecond: 0, errorRate: 0, p50Ms: null, p99Ms: null, tunnelsOpen: 0, bytesIn: 0, bytesOut: 0 })
})

t.test('merged health: the newest evidence wins, and a worker\'s unknown hides nothing', async (t) => {
  const record = (state: HealthRecord['state'], since: number): HealthRecord => ({ state, since, cause: null })
  const part = (health: [string, HealthRecord][]): WorkerActivity => ({ routes: new Map(), errors: [], health: new Map(health) })
  const primary = new Map([['/a/', record('healthy', 100)], ['/b/', record('healthy', 100)], ['/c/', record('unhealthy', 300)]])
  const merged = new RouterActivity([
    part([['/a/', record('unreachable', 200)], ['/b/', record('unknown', 500)], ['/c/', record('unreachable', 200)]]),
    part([['/a/', record('healthy', 100)]])
  ]).health({ get: (prefix) => primary.get(prefix) ?? record('unknown', 0) })
  t.equal(merged.get('/a/').state, 'unreachable', 'a worker\'s refused connect, newer than the last probe')
  t.equal(merged.get('/b/').state, 'healthy', 'a worker just started knows nothing')
  t.equal(merged.get('/c/').state, 'unhealthy', 'a newer probe beats an older passive mark')
})

t.test('merged recent errors: every worker\'s, newest first, at most 50', async (t) => {
  const error = (at: number, path: string): WorkerActivity['errors'][number] => ({ at: new Date(at).toISOString(), route: '/a/', method: 'GET', path, status: 502, code: 'bad_gateway' })
  const a = Array.from({ length: 40 }, (_, i) => error(1_000_000 + i * 2, `/a/${i}`)).reverse()
  const b = Array.from({ length: 40 }, (_, i) => error(1_000_001 + i * 2, `/b/${i}`)).reverse()
  const errors = new RouterActivity([{ routes: new Map(), errors: a, health: new Map() }, { routes: new Map(), errors: b, health: new Map() }]).recentErrors()
  t.equal(errors.length, 50)
  t.equal(errors[0]?.path, '/b/39')
  t.equal(errors[1]?.path, '/a/39')
  t.ok(errors.every((e, i) => i === 0 || e.at <= (errors[i - 1] as typeof e).at), 'newest first')
})

function samplesOf (text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    samples.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return samples
}

interface TestWorker extends WorkerChannel {
  readonly worker: Worker
}

t.test('metrics over real cluster workers: summed, per worker, router-wide once, and a silent or dead worker left out', async (t) => {
  const workers: TestWorker[] = []
  const metrics = new PrimaryObservability({
    workers: () => workers,
    state: { store: new RouteStore(), startedAt: Date.now(), version: 'test', configErrors: () => [], rescanFailure: () => null, health: { get: () => ({ state: 'unknown', since: 0, cause: null }) } }
  }).metrics
  cluster.setupPrimary({ exec: WORKER, execArgv: ['--import', 'tsx'], serialization: 'advanced' })
  const fork = async (env: Record<string, string>): Promise<TestWorker> => {
    const worker = cluster.fork({ ...withoutChildCoverage({}), ...env })
    t.teardown(() => { if (!worker.isDead()) worker.process.kill('SIGKILL') })
    const channel = new ClusterChannel(worker as unknown as ChannelPort)
    await withTimeout(new Promise((resolve) => channel.on('ready', resolve)), 30_000, 'worker ready')
    return { id: String(worker.id), worker, channel }
  }
  const [a, b] = await Promise.all([fork({ OBS_REQUESTS: '3' }), fork({ OBS_REQUESTS: '5' })]) as [TestWorker, TestWorker]
  workers.push(a, b)

  const summed = await metrics.render(false)
  t.match(summed.contentType, /^text\/plain/)
  t.equal(samplesOf(summed.text).get('sockrouter_requests_total{route="/a/",code="200"}'), 8, 'prom-client\'s clusterMetrics() sums 3 and 5')
  t.equal(samplesOf(summed.text).get('sockrouter_routes{source="discovered",status="up"}'), 0, 'the primary\'s (empty) table, not the workers\' gauges')
  t.equal(summed.text.match(/^# TYPE sockrouter_routes /gm)?.length, 1, 'each family once')

  const apart = samplesOf((await metrics.render(true)).text)
  t.equal(apart.get(`sockrouter_requests_total{route="/a/",code="200",worker="${a.id}"}`), 3)
  t.equal(apart.get(`sockrouter_requests_total{route="/a/",code="200",worker="${b.id}"}`), 5)
  t.equal(apart.get('sockrouter_routes{source="discovered",status="up"}'), 0, 'router-wide gauges carry no worker label')

  // A replacement worker still starting: prom-client's request to it goes unanswered, and clusterMetrics() gives up
  // after its 5 s; the scrape then sums the workers that answer.
  workers.push(await fork({ OBS_SILENT: '1' }))
  t.equal(samplesOf((await metrics.render(false)).text).get('sockrouter_requests_total{route="/a/",code="200"}'), 8, 'a silent worker does not fail the scrape')

  b.channel.emit('stop', null)
  await new Promise((resolve) => b.worker.once('exit', resolve))
  workers.splice(workers.indexOf(b), 1)
  const left = samplesOf((await metrics.render(true)).text)
  t.equal(left.get(`sockrouter_requests_total{route="/a/",code="200",worker="${a.id}"}`), 3)
  t.notOk(left.has(`sockrouter_requests_total{route="/a/",code="200",worker="${b.id}"}`), 'a dead worker is not asked')
  for (const w of workers) w.channel.close()
})
