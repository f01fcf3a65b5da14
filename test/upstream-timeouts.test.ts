import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startBackend } from './helpers/backend.js'
import { httpGet } from './helpers/http-client.js'
import { makeTempDir } from './helpers/temp-dir.js'
import { startTestRouter } from './helpers/router.js'
import { writeRouteFile } from './helpers/services-dir.js'

const TIMEOUT_MS = 1200
/**
 * How late a 504 may be. undici's own header timer runs on its fast timers,
 * which tick every ~500 ms, so across requests started at different moments
 * its 504s spread over [T, T + 500 ms) (issue #10: up to 2.5 s for 2 s). Our
 * timer is a native one: late only by event-loop lag. The margin is wide for
 * a loaded machine and still below what the coarse timer spreads into.
 */
const MARGIN_MS = 350

async function timeRequest (url: string): Promise<{ status: number, elapsed: number }> {
  const started = performance.now()
  const res = await httpGet(url)
  return { status: res.status, elapsed: performance.now() - started }
}

/** Starts `count` requests `gapMs` apart, so they land at different points of any coarse timer's tick. */
async function staggered (url: string, count: number, gapMs: number): Promise<Array<{ status: number, elapsed: number }>> {
  const pending: Array<Promise<{ status: number, elapsed: number }>> = []
  for (let i = 0; i < count; i++) {
    pending.push(timeRequest(`${url}${i}`))
    await new Promise((resolve) => setTimeout(resolve, gapMs))
  }
  return await Promise.all(pending)
}

function assertOnTime (t: Test, results: Array<{ status: number, elapsed: number }>): void {
  for (const [i, { status, elapsed }] of results.entries()) {
    t.equal(status, 504, `request ${i} timed out`)
    t.ok(elapsed >= TIMEOUT_MS, `request ${i}: not before the timeout (${Math.round(elapsed)} ms)`)
    t.ok(elapsed < TIMEOUT_MS + MARGIN_MS, `request ${i}: 504 close to the timeout (${Math.round(elapsed)} ms)`)
  }
}

t.test('--upstream-timeout answers 504 at its figure, not a coarse timer tick later', async (t) => {
  const dir = makeTempDir(t)
  await startBackend(t, join(dir, 'mute', 'ui.sock'), () => {})
  const { url } = await startTestRouter(t, { socketDir: dir, upstreamTimeoutMs: TIMEOUT_MS })
  assertOnTime(t, await staggered(`${url}/mute/ui/`, 8, 70))
})

t.test('a route file timeouts.upstream answers 504 at its figure', async (t) => {
  const root = makeTempDir(t)
  const socketPath = join(root, 'x', 'mute.sock')
  await startBackend(t, socketPath, () => {})
  writeRouteFile(join(root, 'd'), 'mute.yaml', `routes:\n  - prefix: /mute\n    socket: ${socketPath}\n    timeouts:\n      upstream: ${TIMEOUT_MS}ms\n`)
  const { url } = await startTestRouter(t, { socketDir: join(root, 's'), servicesDir: join(root, 'd') })
  assertOnTime(t, await staggered(`${url}/mute/`, 8, 70))
})
