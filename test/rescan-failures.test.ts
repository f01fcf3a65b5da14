import { join } from 'node:path'
import t, { type Test } from 'tap'
import { readSnapshot } from '../src/discovery/read-snapshot.js'
import type { SnapshotReader } from '../src/discovery/snapshot-source.js'
import { httpGet } from './helpers/http-client.js'
import { hasRoute, startTestRouter, waitForTable, type TestRouter } from './helpers/router.js'
import { servicesDirWithGoodRoute, writeRouteFile } from './helpers/services-dir.js'

/**
 * No failure inside a rescan may take the router down (issue #10, defect 1):
 * it is logged, the last good table stays in force, health says `degraded`
 * with the error, and a later rescan recovers. The failures are injected
 * through the `readSnapshot` seam and a throwing snapshot listener.
 */

interface Health { status: string, routes: number, configErrors: string[], rescanError: { message: string, since: string } | null }

async function health (url: string): Promise<Health> {
  return JSON.parse((await httpGet(`${url}/_sockrouter/health`)).text) as Health
}

interface Setup extends TestRouter {
  readonly servicesDir: string
  readonly root: string
  /** While set, every scan throws this. */
  fail: Error | null
  /** Resolves at the next scan, rejects after `timeoutMs`. */
  nextRead (timeoutMs: number): Promise<void>
}

async function setup (t: Test): Promise<Setup> {
  const { root, servicesDir } = await servicesDirWithGoodRoute(t)
  const readers = new Set<() => void>()
  const state = {
    fail: null as Error | null,
    nextRead: (timeoutMs: number) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { readers.delete(done); reject(new Error(`no scan within ${timeoutMs} ms`)) }, timeoutMs)
      const done = (): void => { clearTimeout(timer); readers.delete(done); resolve() }
      readers.add(done)
    })
  }
  const reader: SnapshotReader = async (...args) => {
    for (const done of [...readers]) done()
    if (state.fail !== null) throw state.fail
    return await readSnapshot(...args)
  }
  const router = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir, readSnapshot: reader })
  return Object.assign(state, router, { servicesDir, root })
}

const failedLine = (line: Record<string, unknown>): boolean => line.level === 50 && typeof line.msg === 'string' && line.msg.startsWith('rescan failed')
const recoveredLine = (line: Record<string, unknown>): boolean => line.msg === 'rescan succeeded again'

t.test('a rescan whose loader throws keeps the last good table, shows degraded health, and recovers', async (t) => {
  const s = await setup(t)
  t.equal((await httpGet(`${s.url}/good/`)).status, 200)
  t.same((await health(s.url)).status, 'ok')

  s.fail = new Error('injected: the disk went away')
  await t.resolves(s.router.rescan(), 'SIGHUP\'s rescan resolves, it never rejects')
  const logged = await s.waitForLog(failedLine)
  t.equal(logged.msg, 'rescan failed; the last good route table stays in force: injected: the disk went away')

  // A watch event starts its rescan with `void`: that one must not reject unhandled either.
  const read = s.nextRead(5000)
  writeRouteFile(s.servicesDir, 'more.yaml', 'routes:\n  - prefix: /more\n    url: http://127.0.0.1:1\n')
  await read
  t.pass('the watcher rescanned and failed again')

  const h = await health(s.url)
  t.equal(h.status, 'degraded')
  t.equal(h.rescanError?.message, 'injected: the disk went away')
  t.ok(!Number.isNaN(Date.parse(h.rescanError?.since ?? '')), 'since is a time')
  t.same(h.configErrors, [])
  t.equal((await httpGet(`${s.url}/good/`)).status, 200, 'the last good table still serves')
  t.equal(s.logs.filter(failedLine).length, 1, 'the same failure is logged once, not on every retry')

  s.fail = null
  await s.waitForLog(recoveredLine, 10_000)
  await waitForTable(s.router, hasRoute('/more/'), 5000, 'the change made while failing')
  const after = await health(s.url)
  t.equal(after.status, 'ok')
  t.equal(after.rescanError, null)
})

t.test('a snapshot listener that throws fails only that rescan; the retry publishes the snapshot', async (t) => {
  const s = await setup(t)
  let throwing = true
  // Runs before the router's own listener, so the table is not swapped while it throws.
  s.router.discovery.prependListener('snapshot', () => { if (throwing) throw new Error('injected: table build failed') })
  writeRouteFile(s.servicesDir, 'more.yaml', 'routes:\n  - prefix: /more\n    url: http://127.0.0.1:1\n')
  await s.waitForLog(failedLine)
  t.notOk(hasRoute('/more/')(s.router.store.current), 'the table stays as it was')
  t.equal((await health(s.url)).rescanError?.message, 'injected: table build failed')
  t.equal((await httpGet(`${s.url}/good/`)).status, 200)

  throwing = false
  // The disk is unchanged since the failure: the retry must still publish what the failed attempt read.
  await waitForTable(s.router, hasRoute('/more/'), 10_000, 'the retried snapshot')
  await s.waitForLog(recoveredLine)
  t.equal((await health(s.url)).status, 'ok')
})
