import { readFileSync } from 'node:fs'
import type { TargetId } from '../targets.js'
import { SOAK_TUNNELS } from '../options.js'
import { measureIdleTunnels, TUNNEL_METRICS } from './idle-tunnels.js'
import type { Scenario } from './types.js'

/**
 * Issue #14's soak: 10,000 idle tunnels at once through sockrouter, RSS per
 * tunnel, then all closed and the fds back to baseline. A tunnel holds two
 * fds in the router (the client's TCP socket and the backend's unix socket),
 * so one process needs 20,000 plus its own few dozen, over this machine's
 * hard limit of 20,000 fds a process, which cannot be raised; sockrouter's
 * default --max-connections, (RLIMIT_NOFILE − 5%) / 2, would also turn the
 * 9,501st away. Where one process cannot hold them, the soak runs on the
 * binary with `--workers 2`, about 5,000 tunnels a worker, and sums RSS and
 * fds over the primary and its workers.
 */

/** The fds a router process holds besides its tunnels: listeners, the watcher, the log, the inspector, the IPC pipe. */
const OWN_FDS = 200
/** The load generator's own fds besides one per tunnel. */
const HARNESS_FDS = 500

/** The soft RLIMIT_NOFILE the harness has, which every child inherits. */
export function fdLimit (limits = readFileSync('/proc/self/limits', 'utf8')): number {
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1]
  return soft === undefined || soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft)
}

export interface SoakPlan {
  readonly target: Extract<TargetId, 'sockrouter-binary' | 'sockrouter-w2'>
  /** Why that target, for the report. */
  readonly why: string
}

/** One process if its fds and its default connection cap hold `tunnels`, else two workers (issue #14). */
export function planSoak (tunnels: number, limit: number): SoakPlan {
  const cap = Math.floor((limit * 0.95) / 2)
  const fits = (perProcess: number): boolean => perProcess * 2 + OWN_FDS <= limit && perProcess <= cap
  if (fits(tunnels)) return { target: 'sockrouter-binary', why: `one process holds ${tunnels} tunnels in ${tunnels * 2} fds, under its limit of ${limit}` }
  return {
    target: 'sockrouter-w2',
    why: `one process would need ${tunnels * 2}+ fds (client and backend side of each tunnel) against a limit of ${limit} fds a process` +
      `${tunnels > cap ? `, and sockrouter's default --max-connections there is ${cap}` : ''}, so the soak runs on --workers 2` +
      `${fits(Math.ceil(tunnels / 2)) ? '' : ` (even ${Math.ceil(tunnels / 2)} a worker does not fit)`}`
  }
}

let plan: SoakPlan | null = null
/** Decided for the full run's count, so a --quick run exercises the same target. */
function soakPlan (): SoakPlan {
  plan ??= planSoak(SOAK_TUNNELS, fdLimit())
  return plan
}

export const tunnelSoak: Scenario = {
  id: 'tunnel-soak',
  title: `Soak: ${SOAK_TUNNELS.toLocaleString('en-US')} idle WebSocket tunnels at once (${soakPlan().target === 'sockrouter-w2' ? 'the binary with --workers 2, primary and workers summed' : 'the binary'}), then all closed`,
  schedule: 'once',
  metrics: TUNNEL_METRICS,
  reach: 'all',
  workers: true,
  appliesTo: (target) => target === soakPlan().target,
  unavailable (ctx) {
    const { target, why } = soakPlan()
    if (!ctx.launchers.some((l) => l.id === target)) return `${why}, and there is no ${target === 'sockrouter-w2' ? 'binary with --workers' : 'single binary'} (see the lines above)`
    if (ctx.options.soakTunnels + HARNESS_FDS > fdLimit()) return `the load generator would need ${ctx.options.soakTunnels}+ fds, over its limit of ${fdLimit()}`
    return null
  },
  async run (ctx, target) {
    ctx.note(`  tunnel-soak: ${soakPlan().why}`)
    return await measureIdleTunnels(ctx, target, {
      count: ctx.options.soakTunnels,
      openDeadlineMs: ctx.options.quick ? 20_000 : 120_000,
      closeDeadlineMs: 30_000
    })
  }
}
