import { freePort } from '../children.js'
import { pollUntil } from '../load/poll.js'
import { median } from '../stats.js'
import { readinessEndpoint } from '../targets.js'
import type { Scenario } from './types.js'

/**
 * A fresh proxy process each trial: spawn → first routed 200 on /json/ui/,
 * polled every 2 ms. In a full run on every target, so sockrouter's three
 * ways (issue #11's startup-ways, issue #14) and the peers on both Nodes each
 * get a figure; the bundle was built before any timing starts.
 */
export const startup: Scenario = {
  id: 'startup',
  title: 'Start-up: spawn to first served request',
  schedule: 'round',
  metrics: [
    { key: 'ms', label: 'time to first 200', unit: 'ms', better: 'lower', compare: 'ratio' }
  ],
  reach: 'full',
  appliesTo: (target) => target !== 'direct',
  unavailable: () => null,
  async run (ctx, target) {
    const launcher = ctx.launchers.find((l) => l.id === target.id)
    if (launcher === undefined) throw new Error(`no launcher for ${target.id}`)
    const trials: number[] = []
    let errors = 0
    for (let i = 0; i < ctx.options.startupTrialsPerRound; i++) {
      const port = await freePort()
      const startedAt = performance.now()
      const child = launcher.spawn(port, 'startup')
      const ms = await Promise.race([
        pollUntil(readinessEndpoint(port), (s) => s === 200, { startedAt, timeoutMs: 30_000, intervalMs: 2 }),
        child.exited.then(() => null)
      ])
      await child.stop(5000)
      if (ms === null) {
        errors++
        ctx.note(`  ${target.id}: start-up trial failed: ${child.stderrTail() || 'no 200 within 30 s'}`)
      } else {
        trials.push(ms)
      }
    }
    return { values: { ms: median(trials) }, errors, detail: { trials: trials.map((t) => t.toFixed(1)).join(' ') } }
  }
}
