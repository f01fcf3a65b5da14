import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { tableRows } from './helpers/table-rows.js'
import type { RunningRouter } from '../src/start-router.js'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { startTestRouter, waitForTable } from './helpers/router.js'
import { runCli } from './helpers/run-cli.js'
import { writeRouteFile } from './helpers/services-dir.js'
import { makeStaleSocket } from './helpers/stale-socket.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { DEADLINE_MS, withTimeout } from './helpers/wait-for.js'

/**
 * Issue #12: "`check`, `routes` and health agree on everything, skipped
 * duplicate prefixes included. Today `check` exits 1 while health says `ok`."
 * One setup with a duplicate prefix, a healthy backend and a stale socket,
 * seen by all three.
 */

/** Resolves once every route has been probed: no route is `unknown`. */
function allProbed (router: RunningRouter): Promise<void> {
  return withTimeout(new Promise<void>((resolve) => {
    const check = (): void => {
      if (router.store.current.routes.length < 4 || router.health.counts().unknown > 0) return
      router.health.off('change', check)
      router.store.off('swap', check)
      resolve()
    }
    router.health.on('change', check)
    router.store.on('swap', check)
    check()
  }), DEADLINE_MS, 'every route probed')
}

t.test('check, routes and /_sockrouter/health agree on a duplicate prefix and on each route\'s health', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'services.d')
  const a = await startBackend(t, join(root, 'b', 'a.sock'))
  const b = await startBackend(t, join(root, 'b', 'b.sock'))
  await startBackend(t, join(socketDir, 'disc', 'api.sock'))
  mkdirSync(join(socketDir, 'dead'), { recursive: true })
  await makeStaleSocket(join(socketDir, 'dead', 'ui.sock'))
  writeRouteFile(servicesDir, 'a.yaml', `routes:\n  - prefix: /x\n    socket: ${a.socketPath}\n`)
  writeRouteFile(servicesDir, 'b.yaml', `routes:\n  - prefix: /x/\n    socket: ${b.socketPath}\n  - prefix: /only-b\n    socket: ${b.socketPath}\n`)
  const duplicate = 'error: services.d/b.yaml routes[0]: prefix /x/ is already declared by services.d/a.yaml'

  const check = await runCli(['check', '--socket-dir', socketDir, '--services-dir', servicesDir])
  t.equal(check.code, 1, 'check fails on the duplicate')
  t.same(check.stderr.split('\n').filter((l) => l !== ''), [duplicate])
  const checkRows = tableRows(check.stdout)
  t.same(checkRows.map((r) => [r[0], r[4]]), [
    ['/dead/ui/', 'unreachable (connect ECONNREFUSED)'],
    ['/disc/api/', 'healthy'],
    ['/only-b/', 'healthy'],
    ['/x/', 'healthy']
  ], 'check probes each route once: the stale socket is unreachable')

  const { router, url, port } = await startTestRouter(t, { socketDir, servicesDir, healthIntervalMs: 100 })
  await waitForTable(router, (tb) => tb.routes.length === 4, DEADLINE_MS, 'four routes')
  await allProbed(router)

  const health = JSON.parse((await httpGet(`${url}/_sockrouter/health`)).text) as Record<string, unknown>
  t.match(health, {
    status: 'degraded',
    configErrors: [],
    skipped: [{ what: 'services.d/b.yaml routes[0]', reason: 'prefix /x/ is already declared by services.d/a.yaml' }],
    health: { healthy: 3, unhealthy: 0, unreachable: 1, unknown: 0 }
  }, 'health is degraded by what fails check, and counts what check probed')

  const routes = await runCli(['routes', '--listen', `127.0.0.1:${port}`])
  t.equal(routes.code, 1, 'routes exits 1 on the same problem')
  t.same(routes.stderr.split('\n').filter((l) => l !== ''), [duplicate], 'and prints the same line')
  t.same(tableRows(routes.stdout), checkRows, 'routes prints the same table as check, HEALTH column included')

  const body = JSON.parse((await httpGet(`${url}/_sockrouter/routes`)).text) as { skipped: unknown[] }
  t.same(body.skipped, health.skipped, '/_sockrouter/routes lists the same skipped route')
})

t.test('without problems all three say so: check and routes exit 0, health is ok', async (t) => {
  const root = makeTempDir(t)
  const socketDir = join(root, 's')
  const servicesDir = join(root, 'services.d')
  await startBackend(t, join(socketDir, 'disc', 'api.sock'))
  const check = await runCli(['check', '--socket-dir', socketDir, '--services-dir', servicesDir, '--health-interval', '0'])
  t.equal(check.code, 0, check.stderr)
  t.same(tableRows(check.stdout).map((r) => r[4]), ['unknown'], '--health-interval 0: check does not probe either')
  const { router, url, port } = await startTestRouter(t, { socketDir, servicesDir })
  await waitForTable(router, (tb) => tb.routes.length === 1, DEADLINE_MS, 'one route')
  t.match(JSON.parse((await httpGet(`${url}/_sockrouter/health`)).text), { status: 'ok', skipped: [], health: { unknown: 1 } })
  const routes = await runCli(['routes', '--listen', `127.0.0.1:${port}`])
  t.equal(routes.code, 0, routes.stderr)
  t.same(tableRows(routes.stdout), tableRows(check.stdout))
})
