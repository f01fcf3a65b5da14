import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { startBackends } from './backends.js'
import { freePort, spawnChild, stopAllChildren } from './children.js'
import { pollUntil } from './load/poll.js'
import { cpuSeconds } from './proc-stats.js'
import { median } from './stats.js'
import { readinessEndpoint } from './targets.js'

/**
 * Start-up of two or more builds of the single binary side by side (issue #11):
 * `node --import tsx bench/startup-ab.ts [--trials N] LABEL=PATH LABEL=PATH...`.
 * Each trial is what `startup-ways` times for the binary (a fresh process,
 * spawn to the first routed 200 on the bench's JSON backend, polled every
 * 2 ms), plus the CPU time (user + system) the process had used by then. The
 * builds take turns, and the order flips every round, so a busy moment on a
 * shared machine falls on each alike.
 */

interface Build { readonly label: string, readonly path: string, readonly wall: number[], readonly cpu: number[] }

function parseArgs (argv: readonly string[]): { trials: number, builds: Build[] } {
  let trials = 15
  const builds: Build[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--trials') trials = Number(argv[++i])
    else {
      const eq = arg.indexOf('=')
      if (eq <= 0) throw new Error(`expected LABEL=PATH, got ${arg}`)
      builds.push({ label: arg.slice(0, eq), path: arg.slice(eq + 1), wall: [], cpu: [] })
    }
  }
  if (builds.length < 2 || !(trials > 0)) throw new Error('usage: startup-ab.ts [--trials N] LABEL=PATH LABEL=PATH...')
  return { trials, builds }
}

async function trial (build: Build, socketDir: string): Promise<void> {
  const port = await freePort()
  const child = spawnChild(build.label, build.path, ['--socket-dir', socketDir, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'])
  const startedAt = performance.now()
  const ms = await Promise.race([
    pollUntil(readinessEndpoint(port), (s) => s === 200, { startedAt, timeoutMs: 30_000, intervalMs: 2 }),
    child.exited.then(() => null)
  ])
  const cpu = ms === null ? NaN : cpuSeconds([child.pid]) * 1000
  await child.stop(5000)
  if (ms === null) throw new Error(`${build.label}: no 200: ${child.stderrTail()}`)
  build.wall.push(ms)
  build.cpu.push(cpu)
}

const fmt = (values: readonly number[]): string => values.map((v) => v.toFixed(0)).join(' ')

async function run (): Promise<void> {
  const { trials, builds } = parseArgs(process.argv.slice(2))
  const tempDir = mkdtempSync(join('/tmp', 'srab-'))
  const loads: number[] = []
  try {
    const backends = await startBackends(tempDir, null)
    for (let round = 0; round < trials; round++) {
      const order = round % 2 === 0 ? builds : [...builds].reverse()
      for (const build of order) await trial(build, backends.socketDir)
      loads.push(loadavg()[0] as number)
    }
  } finally {
    await stopAllChildren()
    rmSync(tempDir, { recursive: true, force: true })
  }
  process.stdout.write(`${trials} trials each, interleaved; 1-min load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} (median ${median(loads).toFixed(1)})\n`)
  for (const b of builds) {
    process.stdout.write(`${b.label}: wall median ${median(b.wall).toFixed(1)} ms (fastest ${Math.min(...b.wall).toFixed(1)}), CPU median ${median(b.cpu).toFixed(0)} ms\n  wall: ${fmt(b.wall)}\n  cpu:  ${fmt(b.cpu)}\n`)
  }
}

run().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`startup-ab: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
