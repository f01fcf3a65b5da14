import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort, REPO_ROOT, spawnChild, tsxArgs, type Child } from '../children.js'
import { pollUntil } from '../load/poll.js'
import { median } from '../stats.js'
import { readinessEndpoint } from '../targets.js'
import type { Scenario, ScenarioContext } from './types.js'

/**
 * Start-up of the three ways to run sockrouter (issue #11): the TypeScript
 * through tsx and the esbuild bundle, both on the Node running the bench,
 * and the single binary with its own Node. Each trial is a fresh process,
 * from spawn to the first routed 200, polled every 2 ms as in `startup`.
 */

const run = promisify(execFile)

type Way = 'source' | 'bundle' | 'binary'

/** The binary CI built (SOCKROUTER_TEST_BINARY) or `npm run build:binary`'s; null when neither exists. */
function binaryPath (): string | null {
  const path = process.env.SOCKROUTER_TEST_BINARY ?? join(REPO_ROOT, 'dist', 'sockrouter')
  return existsSync(path) ? path : null
}

let bundle: Promise<string> | null = null

/** A bundle of the current sources in the bench's temp dir, built once per run. */
function bundleOf (ctx: ScenarioContext): Promise<string> {
  bundle ??= (async () => {
    const outfile = join(ctx.tempDir, 'startup-bundle.cjs')
    await run(process.execPath, [join(REPO_ROOT, 'build', 'bundle.mjs'), '--outfile', outfile, '--root', REPO_ROOT, '--quiet'])
    return outfile
  })()
  return bundle
}

async function spawnWay (ctx: ScenarioContext, way: Way, port: number): Promise<Child> {
  const args = ['--socket-dir', ctx.backends.socketDir, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn']
  if (way === 'source') return spawnChild('sockrouter-source', process.execPath, tsxArgs('src/cli/binary-entry.ts', args))
  if (way === 'bundle') return spawnChild('sockrouter-bundle', process.execPath, [await bundleOf(ctx), ...args])
  return spawnChild('sockrouter-binary', binaryPath() ?? '', args)
}

async function trial (ctx: ScenarioContext, way: Way): Promise<number | string> {
  const port = await freePort()
  const child = await spawnWay(ctx, way, port)
  // Timed from the spawn: building the bundle (once) is not start-up.
  const startedAt = performance.now()
  const ms = await Promise.race([
    pollUntil(readinessEndpoint(port), (s) => s === 200, { startedAt, timeoutMs: 30_000, intervalMs: 2 }),
    child.exited.then(() => null)
  ])
  await child.stop(5000)
  return ms ?? (child.stderrTail() || 'no 200 within 30 s')
}

export const startupWays: Scenario = {
  id: 'startup-ways',
  title: `Start-up by way of running: source and bundle on Node ${process.version}, the single binary`,
  schedule: 'round',
  metrics: [
    { key: 'source', label: `source via tsx, Node ${process.version}`, unit: 'ms', better: 'lower', compare: 'ratio' },
    { key: 'bundle', label: `bundle, Node ${process.version}`, unit: 'ms', better: 'lower', compare: 'ratio' },
    { key: 'binary', label: 'single binary', unit: 'ms', better: 'lower', compare: 'ratio' }
  ],
  appliesTo: (target) => target === 'sockrouter',
  unavailable: () => null,
  async run (ctx) {
    const ways: Way[] = binaryPath() === null ? ['source', 'bundle'] : ['source', 'bundle', 'binary']
    if (binaryPath() === null) ctx.note('  startup-ways: no single binary (npm run build:binary, or set SOCKROUTER_TEST_BINARY); its figure is left out')
    const trials: Record<Way, number[]> = { source: [], bundle: [], binary: [] }
    let errors = 0
    for (let i = 0; i < ctx.options.startupTrialsPerRound; i++) {
      // Interleaved, so a busy moment on the machine falls on all three alike.
      for (const way of ways) {
        const result = await trial(ctx, way)
        if (typeof result === 'number') trials[way].push(result)
        else { errors++; ctx.note(`  startup-ways ${way}: trial failed: ${result}`) }
      }
    }
    const values: Record<string, number> = {}
    const detail: Record<string, string> = {}
    for (const way of ways) {
      values[way] = trials[way].length > 0 ? median(trials[way]) : NaN
      detail[way] = trials[way].map((t) => t.toFixed(1)).join(' ')
    }
    return { values, errors, detail }
  }
}
