import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { startTestRouter } from './helpers/router.js'
import { runCli } from './helpers/run-cli.js'
import { writeRouteFile } from './helpers/services-dir.js'
import { makeTempDir } from './helpers/temp-dir.js'

const exec = promisify(execFile)

/**
 * `sockrouter routes` prints, per route, a direct curl line for the path the
 * backend sees for the prefix itself: `backendPath` of /_sockrouter/routes,
 * which applies `rewrite` and `stripPrefix` (issue #10: the README said it
 * did not).
 */

interface RouteView { prefix: string, backendPath: string }

t.test('the direct curl line of routes asks for backendPath, which applies rewrite and stripPrefix', async (t) => {
  const root = makeTempDir(t)
  const sock = join(root, 'b', 'api.sock')
  const backend = await startBackend(t, sock)
  const servicesDir = join(root, 'services.d')
  writeRouteFile(servicesDir, 'apps.yaml', [
    'routes:',
    '  - prefix: /rw',
    `    socket: ${sock}`,
    '    rewrite: /api/',
    '  - prefix: /full/x',
    `    socket: ${sock}`,
    '    stripPrefix: false',
    ''
  ].join('\n'))
  const { url, port } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir })

  const views = (JSON.parse((await httpGet(`${url}/_sockrouter/routes`)).text) as { routes: RouteView[] }).routes
  t.same(views.map((v) => [v.prefix, v.backendPath]), [['/full/x/', '/full/x/'], ['/rw/', '/api/']])

  const res = await runCli(['routes', '--listen', `127.0.0.1:${port}`])
  t.equal(res.code, 0, res.stderr)
  const direct = [...res.stdout.matchAll(/^ {2}direct: +(.+)$/gm)].map((m) => m[1] ?? '')
  t.same(direct, [`curl --unix-socket ${sock} http://x/full/x/`, `curl --unix-socket ${sock} http://x/api/`])
  for (const command of direct) await exec('sh', ['-c', command], { timeout: 10_000 })
  t.same(backend.seen.map((r) => r.url), ['/full/x/', '/api/'], 'each direct line reaches the path the router would forward')

  // And the router forwards the prefix itself to exactly that path.
  backend.seen.length = 0
  await httpGet(`${url}/rw/`)
  await httpGet(`${url}/full/x/`)
  t.same(backend.seen.map((r) => r.url), ['/api/', '/full/x/'])
})
