import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { REPO_ROOT, tsxArgs } from '../children.js'
import { isSockrouter } from '../targets.js'
import type { Scenario } from './types.js'

/**
 * Issue #14's "per-request cost of the metrics < 3% of req/s": what
 * bench/metrics-hook-cost.ts measures (the real metrics hook, in isolation,
 * with and without, interleaved), on the Node the measured sockrouter runs
 * on. The share of req/s it costs is this figure over the same sockrouter's
 * CPU per request in http-small (summarize.ts): a CPU-bound router that
 * spends c per request, h of it in the hook, loses h / c of its rate to it.
 */

const run = promisify(execFile)

export interface HookCost {
  readonly hookNs: number
  readonly withNs: number
  readonly withoutNs: number
  readonly node: string
}

/** The JSON line `metrics-hook-cost.ts --json` prints last. */
export function parseHookCost (stdout: string): HookCost {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop()
  if (line === undefined) throw new Error(`no JSON line in metrics-hook-cost output: ${stdout.slice(0, 200)}`)
  const parsed = JSON.parse(line) as Partial<HookCost>
  const { hookNs, withNs, withoutNs, node } = parsed
  if (typeof hookNs !== 'number' || typeof withNs !== 'number' || typeof withoutNs !== 'number' || typeof node !== 'string') {
    throw new Error(`metrics-hook-cost printed no figures: ${line}`)
  }
  return { hookNs, withNs, withoutNs, node }
}

export const metricsCost: Scenario = {
  id: 'metrics-cost',
  title: 'Metrics hook per request, in isolation (bench/metrics-hook-cost.ts), on the sockrouter\'s Node',
  schedule: 'once',
  metrics: [
    { key: 'hookNs', label: 'metrics hook per request', unit: 'ns', better: 'lower', compare: 'ratio' },
    { key: 'withoutNs', label: 'the request stand-in without it', unit: 'ns', better: 'lower', compare: 'ratio' }
  ],
  appliesTo: isSockrouter,
  unavailable: () => null,
  async run (ctx, target) {
    // The binary's figure on the binary's Node; from source or the bundle, on the machine's.
    const node = target.id === 'sockrouter-binary' ? ctx.ways.peerNode ?? process.execPath : process.execPath
    const args = ctx.options.quick ? ['--requests', '50000', '--rounds', '3'] : ['--rounds', '9']
    const { stdout } = await run(node, tsxArgs('bench/metrics-hook-cost.ts', [...args, '--json']), { cwd: REPO_ROOT, timeout: 120_000 })
    const cost = parseHookCost(stdout)
    return { values: { hookNs: cost.hookNs, withoutNs: cost.withoutNs }, errors: 0, detail: { node: cost.node, withNs: cost.withNs } }
  }
}
