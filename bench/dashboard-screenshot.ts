/**
 * Retakes docs/dashboard.png and docs/dashboard-phone.png (issue #12):
 *
 *   node --import tsx bench/dashboard-screenshot.ts [--out DIR] [--real] [--serve]
 *
 * Six demo routes on real sockets and route files in a temp dir, one of them
 * a rejected route file, behind the real router (real discovery, real route
 * table). By default the feed's health and traffic figures come from fixed
 * stand-ins below, so the picture shows every state. `--real` shows the
 * router's own dashboard instead, after 12 s of real requests and two
 * WebSocket tunnels: its figures are whatever the router measured.
 * `--serve` keeps it running and prints the URL instead of a screenshot.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join, resolve } from 'node:path'
import Fastify from 'fastify'
import pino from 'pino'
import { chromium } from 'playwright-core'
import WebSocket from 'ws'
import { registerDashboardPage } from '../src/admin/dashboard-page.js'
import { registerLiveFeed } from '../src/admin/live-feed.js'
import type { ActivitySource, HealthRecord, HealthSource, RecentError, RouteActivitySample } from '../src/admin/live-state.js'
import { startDemoService } from '../src/demo/demo-service.js'
import { parseListenAddress } from '../src/listen/listen-address.js'
import { startRouter } from '../src/start-router.js'

const args = process.argv.slice(2)
const outDir = resolve(args.includes('--out') ? args[args.indexOf('--out') + 1] ?? 'docs' : 'docs')
const real = args.includes('--real')
const serve = args.includes('--serve')

function listen (server: Server, path: string): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true })
  return new Promise((resolveListen) => server.listen(path, () => resolveListen()))
}

/** A JSON service; `/health` answers `healthStatus`. */
function jsonService (name: string, healthStatus = 200): Server {
  return createServer((req, res) => {
    const status = req.url === '/health' ? healthStatus : 200
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ service: name, url: req.url }))
  })
}

const root = mkdtempSync('/tmp/sr-shot-')
const socketDir = join(root, 'sockets')
const servicesDir = join(root, 'services.d')
mkdirSync(servicesDir, { recursive: true })
writeFileSync(join(servicesDir, 'billing.yaml'), `routes:\n  - prefix: /billing\n    socket: ${join(root, 'billing', 'api.sock')}\n    websocket: false\n`)
writeFileSync(join(servicesDir, 'reports.yaml'), 'routes:\n  - prefix: /reports\n    socket: reports/web.sock\n')
writeFileSync(join(servicesDir, 'grafana.yaml'), 'routes:\n  - prefix: /grafana\n    url: http://127.0.0.1:3000\n    changeOrigin: true\n')
writeFileSync(join(servicesDir, 'broken.yaml'), 'routes:\n  - prefix: /wiki\n    sokcet: wiki/web.sock\n')

const demo = await startDemoService(join(socketDir, 'chat', 'ui.sock'))
const servers = [jsonService('chat-api'), jsonService('billing'), jsonService('search', 503)]
await listen(servers[0] as Server, join(socketDir, 'chat', 'api.sock'))
await listen(servers[1] as Server, join(root, 'billing', 'api.sock'))
await listen(servers[2] as Server, join(socketDir, 'search.sock'))

const router = await startRouter({
  socketDir,
  servicesDir,
  listen: [parseListenAddress('127.0.0.1:0')],
  upstreamTimeoutMs: 5000,
  connectTimeoutMs: 1000,
  shutdownGraceMs: 200,
  logger: pino({ level: 'silent' })
})
const first = router.listeners[0]?.address
const routerUrl = `http://127.0.0.1:${first?.kind === 'tcp' ? first.port : 0}`

/** Fixed figures for the stand-in feed: one route in each state the dashboard can show. */
const HOUR = 3_600_000
const now = Date.now()
const STAND_IN: Record<string, { health: HealthRecord, activity: RouteActivitySample }> = {
  '/chat/ui/': { health: { state: 'healthy', since: now - 2 * HOUR, cause: null }, activity: { requestsPerSecond: 14.2, errorRate: 0, p50Ms: 2.1, p99Ms: 9.8, tunnelsOpen: 37, bytesIn: 4_210_000, bytesOut: 96_400_000 } },
  '/chat/api/': { health: { state: 'healthy', since: now - 2 * HOUR, cause: null }, activity: { requestsPerSecond: 182, errorRate: 0.004, p50Ms: 3.4, p99Ms: 41, tunnelsOpen: 0, bytesIn: 18_300_000, bytesOut: 512_000_000 } },
  '/billing/': { health: { state: 'healthy', since: now - 47 * 60_000, cause: null }, activity: { requestsPerSecond: 3.6, errorRate: 0, p50Ms: 12, p99Ms: 88, tunnelsOpen: 0, bytesIn: 920_000, bytesOut: 7_400_000 } },
  '/search/': { health: { state: 'unhealthy', since: now - 6 * 60_000, cause: 'GET /health answered 503' }, activity: { requestsPerSecond: 9.1, errorRate: 0.31, p50Ms: 48, p99Ms: 1240, tunnelsOpen: 0, bytesIn: 310_000, bytesOut: 2_900_000 } },
  '/reports/': { health: { state: 'unreachable', since: now - 19 * 60_000, cause: 'connect ENOENT' }, activity: { requestsPerSecond: 0.4, errorRate: 1, p50Ms: 0.3, p99Ms: 0.6, tunnelsOpen: 0, bytesIn: 0, bytesOut: 41_000 } },
  '/grafana/': { health: { state: 'unknown', since: 0, cause: null }, activity: { requestsPerSecond: 0, errorRate: 0, p50Ms: null, p99Ms: null, tunnelsOpen: 0, bytesIn: 0, bytesOut: 0 } }
}
const NO_HEALTH: HealthRecord = { state: 'unknown', since: 0, cause: null }
const ago = (ms: number): string => new Date(now - ms).toISOString()
const STAND_IN_ERRORS: RecentError[] = [
  { at: ago(4_000), route: '/search/', method: 'GET', path: '/search/q?term=router', status: 503, code: 'backend_5xx' },
  { at: ago(9_000), route: '/reports/', method: 'GET', path: '/reports/weekly.pdf', status: 503, code: 'service_unavailable' },
  { at: ago(21_000), route: '/search/', method: 'POST', path: '/search/index', status: 504, code: 'gateway_timeout' },
  { at: ago(63_000), route: null, method: 'GET', path: '/wiki/Main_Page', status: 404, code: 'no_route' },
  { at: ago(95_000), route: '/chat/api/', method: 'GET', path: '/chat/api/rooms/42/messages', status: 502, code: 'bad_gateway' }
]

async function standInDashboard (): Promise<{ url: string, close: () => Promise<void> }> {
  const health: HealthSource = { get: (prefix) => STAND_IN[prefix]?.health ?? NO_HEALTH, on: () => undefined, off: () => undefined }
  const activity: ActivitySource = {
    sample: (prefix) => (STAND_IN[prefix] ?? STAND_IN['/grafana/'] as { activity: RouteActivitySample }).activity,
    recentErrors: () => STAND_IN_ERRORS
  }
  const app = Fastify()
  // The same prefix the admin plugin gives these endpoints in the router.
  await app.register(async (admin) => {
    registerLiveFeed(admin, '', {
      store: router.store,
      startedAt: now - 2 * HOUR - 14 * 60_000,
      configErrors: () => router.configErrors(),
      rescanFailure: () => router.discovery.failure,
      health,
      activity
    })
    registerDashboardPage(admin)
  }, { prefix: '/_sockrouter' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/_sockrouter/`, close: () => app.close() }
}

/** Real requests for a little over the activity window, and two open tunnels. */
async function driveTraffic (): Promise<WebSocket[]> {
  const sockets = [0, 1].map(() => new WebSocket(`${routerUrl.replace('http', 'ws')}/chat/ui/ws`, { headers: { origin: routerUrl } }))
  for (const ws of sockets) ws.on('error', () => {})
  const until = Date.now() + 12_000
  const paths = ['/chat/api/rooms', '/chat/api/rooms/42/messages', '/billing/invoices', '/search/q?term=router', '/reports/weekly', '/chat/ui/']
  let i = 0
  while (Date.now() < until) {
    await Promise.all(paths.map(async (path) => {
      const res = await fetch(`${routerUrl}${path}${path.includes('?') ? '&' : '?'}n=${i}`).catch(() => null)
      await res?.arrayBuffer()
    }))
    i++
    await new Promise((resolveWait) => setTimeout(resolveWait, 50))
  }
  return sockets
}

const dashboard = real ? { url: `${routerUrl}/_sockrouter/`, close: async () => {} } : await standInDashboard()
const tunnels = real ? await driveTraffic() : []

async function shutdown (): Promise<void> {
  for (const ws of tunnels) ws.terminate()
  await dashboard.close()
  await router.close()
  await demo.close()
  for (const server of servers) server.close()
  rmSync(root, { recursive: true, force: true })
}

if (serve) {
  process.stdout.write(`dashboard at ${dashboard.url} (router at ${routerUrl}); Ctrl-C to stop\n`)
  process.once('SIGINT', () => { void shutdown().then(() => process.exit(0)) })
} else {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  // The laptop shot is the whole page; the phone shot is its first screen.
  const shots: Array<{ file: string, width: number, height: number, scale: number, fullPage: boolean }> = [
    { file: 'dashboard.png', width: 1280, height: 800, scale: 1, fullPage: true },
    { file: 'dashboard-phone.png', width: 390, height: 844, scale: 2, fullPage: false }
  ]
  for (const shot of shots) {
    const page = await browser.newPage({ viewport: { width: shot.width, height: shot.height }, deviceScaleFactor: shot.scale, colorScheme: 'light' })
    await page.goto(dashboard.url)
    await page.waitForFunction(() => document.querySelectorAll('#route-rows tr').length >= 6 && document.querySelector('#live')?.textContent === 'live')
    const file = join(outDir, shot.file)
    await page.screenshot({ path: file, fullPage: shot.fullPage })
    process.stdout.write(`wrote ${file}\n`)
    await page.close()
  }
  await browser.close()
  await shutdown()
}
