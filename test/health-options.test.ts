import { join } from 'node:path'
import t from 'tap'
import { parseOptions } from '../src/cli/parse-options.js'
import { parseRouteFile } from '../src/config/parse-route-file.js'
import { startBackend } from './helpers/backend.js'
import { startCli } from './helpers/run-cli.js'
import { makeTempDir } from './helpers/temp-dir.js'

/** Issue #12: the health flags and the per-route `healthCheck`, parsed and refused. */

t.test('--health-interval takes a duration, 1s included, and 0 turns probing off', async (t) => {
  t.equal(parseOptions([]).healthIntervalMs, 10_000, 'default 10 s')
  t.equal(parseOptions([]).healthPath, '/health', 'default /health')
  t.equal(parseOptions(['--health-interval', '1s']).healthIntervalMs, 1000)
  t.equal(parseOptions(['--health-interval', '250ms']).healthIntervalMs, 250)
  t.equal(parseOptions(['--health-interval', '0']).healthIntervalMs, 0)
  t.equal(parseOptions([], { SOCKROUTER_HEALTH_INTERVAL: '2s' }).healthIntervalMs, 2000, 'and its env var')
  t.throws(() => parseOptions(['--health-interval', 'soon']), { message: /--health-interval: "soon" is not a duration/ })
})

t.test('--health-path must be a path', async (t) => {
  t.equal(parseOptions(['--health-path', '/ready']).healthPath, '/ready')
  t.equal(parseOptions([], { SOCKROUTER_HEALTH_PATH: '/livez?x=1' }).healthPath, '/livez?x=1')
  t.throws(() => parseOptions(['--health-path', 'health']), { message: '--health-path: "health" is not a path starting with "/"' })
  t.throws(() => parseOptions(['--health-path', '/a b']), { message: /--health-path/ })
})

t.test('healthCheck in a route file: a map, false or true; anything else is a clear error', async (t) => {
  const parse = (check: string): ReturnType<typeof parseRouteFile> => parseRouteFile('services.d/x.yaml', `routes:\n  - prefix: /x\n    socket: x.sock\n    healthCheck: ${check}\n`, '/run/s')
  t.match(parse('{ path: /ready, interval: 500ms, timeout: 1s }'), { ok: true, specs: [{ healthCheck: { path: '/ready', intervalMs: 500, timeoutMs: 1000 } }] })
  t.match(parse('false'), { ok: true, specs: [{ healthCheck: false }] })
  t.match(parse('true'), { ok: true, specs: [{ healthCheck: {} }] })
  t.match(parse('{ interval: 0s }'), { ok: true, specs: [{ healthCheck: { intervalMs: 0 } }] })
  t.same(parse('3'), { ok: false, errors: ['services.d/x.yaml:4: routes[0].healthCheck: must be false, true or a map with path, interval and timeout'] })
  t.same(parse('{ path: ready }'), { ok: false, errors: ['services.d/x.yaml:4: routes[0].healthCheck.path: must start with "/"'] })
  t.same(parse('{ interval: soon }'), { ok: false, errors: ['services.d/x.yaml:4: routes[0].healthCheck.interval: must be a duration like "5s"'] })
  t.same(parse('{ intervall: 5s }'), { ok: false, errors: ['services.d/x.yaml:4: routes[0].healthCheck.intervall: unknown key (a typo?)'] })
  t.same(parse('{ timeout: 0s }'), { ok: false, errors: ['services.d/x.yaml:2: routes[0]: cannot be used: healthCheck.timeout must be more than 0'] })
})

t.test('the CLI router probes with --health-interval 1s and --health-path', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const backend = await startBackend(t, join(socketDir, 'svc', 'ui.sock'), (req, res) => { req.resume(); res.writeHead(req.url === '/ready' ? 204 : 500); res.end() })
  const cli = startCli(t, ['--socket-dir', socketDir, '--services-dir', join(root, 'none'), '--listen', '127.0.0.1:0', '--health-interval', '1s', '--health-path', '/ready'])
  const line = await cli.waitForLine((l) => l.prefix === '/svc/ui/' && l.health !== undefined)
  t.match(line, { level: 30, health: 'healthy', cause: 'GET /ready answered 204', msg: 'route /svc/ui/ is healthy: GET /ready answered 204' })
  t.ok(backend.seen.length >= 1 && backend.seen.every((s) => s.method === 'GET' && s.url === '/ready'), 'every request the backend saw is a GET of --health-path')
  t.equal(await cli.stop(), 0)
})
