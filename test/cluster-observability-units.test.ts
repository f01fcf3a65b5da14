import cluster, { type Worker } from 'node:cluster'
import { join } from 'node:path'
import t from 'tap'
import { WebSocket } from 'ws'
import type { WorkerChannel } from '../src/cluster/ask-every-worker.js'
import { ClusterChannel, type ChannelPort } from '../src/cluster/cluster-channel.js'
import { RouterActivity, type WorkerActivity } from '../src/cluster/cluster-live-state.js'
import { PrimaryObservability } from '../src/cluster/cluster-observability.js'
import type { LiveState } from '../src/admin/live-state.js'
import type { MetricsText } from '../src/admin/whole-router.js'
import type { HealthRecord } from '../src/health/route-health.js'
import { mergeRouteActivity, type RouteActivityCounts } from '../src/metrics/route-activity.js'
import type { TunnelInfo } from '../src/upgrade/tunnel-registry.js'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { withTimeout } from './helpers/wait-for.js'
import { startWsBackend } from './helpers/ws-backend.js'

// The primary-side aggregators and worker-side responders of issue #14 over real node:cluster workers and real
// ClusterChannels, without --workers' core: each worker is a whole router on its own unix listener, so the test
// chooses which worker serves each request, and this process plays the primary.

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

interface TestWorker extends WorkerChannel {
  readonly worker: Worker
  readonly listenPath: string
}

function request (listenPath: string, path: string): Promise<number> {
  return httpGet(`http://localhost${path}`, { socketPath: listenPath }).then((r) => r.status)
}

function samplesOf (text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    samples.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return samples
}

t.test('two real cluster workers: metrics, state and tunnels of the whole router from either one', async (t) => {
  const dir = makeTempDir(t)
  const socketDir = join(dir, 'sock')
  await startBackend(t, join(socketDir, 'app', 'api.sock'), (req, res) => {
    res.statusCode = req.url?.endsWith('/fail') === true ? 500 : 200
    res.end('ok')
  })
  await startWsBackend(t, join(socketDir, 'chat', 'ws.sock'))
  // The primary's own view of the table, health and config, as --workers' primary keeps it.
  const { router } = await startTestRouter(t, { socketDir })

  const workers: TestWorker[] = []
  const list = (): TestWorker[] => workers
  const primary = new PrimaryObservability({
    workers: list,
    state: { store: router.store, startedAt: Date.now(), version: 'test', configErrors: () => router.configErrors(), rescanFailure: () => null, skipped: () => router.skipped(), health: router.health }
  })
  for (const n of [1, 2]) {
    const listenPath = join(dir, `w${n}.sock`)
    cluster.setupPrimary({ exec: WORKER, execArgv: ['--import', 'tsx'], args: [socketDir, listenPath], serialization: 'advanced', silent: false })
    const worker = cluster.fork({ _TAPJS_PROCESSINFO_COVERAGE_: '0' })
    t.teardown(() => { if (!worker.isDead()) worker.process.kill('SIGKILL') })
    const channel = new ClusterChannel(worker as unknown as ChannelPort)
    primary.attach(channel)
    const ready = await withTimeout(new Promise<{ worker: string }>((resolve) => channel.on('ready', resolve)), 30_000, `worker ${n} ready`)
    workers.push({ id: ready.worker, channel, worker, listenPath })
  }
  const [w1, w2] = workers as [TestWorker, TestWorker]

  const sent = { [w1.id]: 3, [w2.id]: 5 }
  for (const w of workers) {
    for (let i = 0; i < (sent[w.id] as number); i++) t.equal(await request(w.listenPath, '/app/api/'), 200)
  }
  t.equal(await request(w1.listenPath, '/app/api/fail'), 500)
  t.equal(await request(w2.listenPath, '/app/api/fail'), 500)
  const open = (w: TestWorker): Promise<WebSocket> => withTimeout(new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${w.listenPath}:/chat/ws/`, { headers: { host: 'localhost' }, perMessageDeflate: false })
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  }), 10_000, 'WebSocket open')
  const ws1 = await open(w1)
  const ws2 = await open(w2)

  await t.test('metrics from worker 1: requests summed over both, router-wide gauges once', async (t) => {
    const { text, contentType } = await w1.channel.request<MetricsText>('test:metrics', { perWorker: false })
    t.match(contentType, /^text\/plain/)
    const samples = samplesOf(text)
    t.equal(samples.get('sockrouter_requests_total{route="/app/api/",code="200"}'), 8, '3 on one worker, 5 on the other')
    t.equal(samples.get('sockrouter_requests_total{route="/app/api/",code="500"}'), 2)
    t.equal(samples.get('sockrouter_tunnels_open{route="/chat/ws/"}'), 2)
    t.equal(samples.get('sockrouter_routes{source="discovered",status="up"}'), 2, 'two routes, not two per worker')
    t.equal(samples.get('sockrouter_config_errors'), 0)
    t.equal(samples.get('sockrouter_route_health{route="/app/api/",state="healthy"}'), 1, 'one health per route; a request answered made it healthy')
    t.equal(samples.get('sockrouter_request_duration_seconds_count{route="/app/api/"}'), 10, 'histograms sum too')
    t.equal(text.match(/^# TYPE sockrouter_routes /gm)?.length, 1, 'each family once')
  })

  await t.test('metrics per worker from worker 2: each worker\'s series under its label', async (t) => {
    const { text } = await w2.channel.request<MetricsText>('test:metrics', { perWorker: true })
    const samples = samplesOf(text)
    t.equal(samples.get(`sockrouter_requests_total{route="/app/api/",code="200",worker="${w1.id}"}`), 3)
    t.equal(samples.get(`sockrouter_requests_total{route="/app/api/",code="200",worker="${w2.id}"}`), 5)
    t.equal(samples.get('sockrouter_routes{source="discovered",status="up"}'), 2, 'router-wide gauges carry no worker label')
  })

  await t.test('state from worker 2: both workers\' traffic, tunnels and errors', async (t) => {
    const state = await w2.channel.request<LiveState>('test:state', null)
    const api = state.routes.find((r) => r.prefix === '/app/api/')
    const chat = state.routes.find((r) => r.prefix === '/chat/ws/')
    t.equal(state.routes.length, 2)
    t.ok(api !== undefined && api.requestsPerSecond >= 10 / 10, `10 requests within the 10 s window (${api?.requestsPerSecond ?? 0}/s)`)
    t.equal(api?.errorRate, 0.2)
    t.equal(chat?.tunnelsOpen, 2)
    t.equal(state.errors.filter((e) => e.path === '/app/api/fail').length, 2, 'one 500 from each worker')
    t.equal(api?.health, 'healthy')
  })

  await t.test('tunnels: each worker\'s listed from either, and each cut from the other', async (t) => {
    const listed = await w1.channel.request<TunnelInfo[]>('test:tunnels', null)
    t.same(listed.map((x) => x.id).sort(), [`${w1.id}-1`, `${w2.id}-1`].sort())
    const closed2 = new Promise((resolve) => ws2.once('close', resolve))
    t.equal(await w1.channel.request<boolean>('test:cut', { id: `${w2.id}-1` }), true, 'worker 1 cuts worker 2\'s tunnel')
    await withTimeout(closed2, 10_000, 'worker 2\'s tunnel closed')
    const closed1 = new Promise((resolve) => ws1.once('close', resolve))
    t.equal(await w2.channel.request<boolean>('test:cut', { id: `${w1.id}-1` }), true, 'and worker 2 worker 1\'s')
    await withTimeout(closed1, 10_000, 'worker 1\'s tunnel closed')
    t.equal(await w2.channel.request<boolean>('test:cut', { id: `${w1.id}-1` }), false, 'an id no longer open')
    t.same(await w2.channel.request<TunnelInfo[]>('test:tunnels', null), [])
  })

  await t.test('a worker gone: the others still answer for the rest of the router', async (t) => {
    await w2.channel.request('test:stop', null)
    await new Promise((resolve) => w2.worker.once('exit', resolve))
    workers.splice(1, 1)
    const state = await w1.channel.request<LiveState>('test:state', null)
    t.equal(state.routes.length, 2)
    const { text } = await w1.channel.request<MetricsText>('test:metrics', { perWorker: false })
    t.equal(samplesOf(text).get('sockrouter_requests_total{route="/app/api/",code="200"}'), 3, 'only the live worker\'s count')
  })

  await w1.channel.request('test:stop', null)
  for (const w of workers) w.channel.close()
})
