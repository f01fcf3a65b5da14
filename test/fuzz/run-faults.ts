/**
 * `npm run fuzz -- --faults`: the fault scenarios of docs/reliability.md
 * (issue #10), each against a fresh router child and its own socket dir,
 * loopback only, every loop bounded. Prints each scenario's figures and
 * exits 1 if any scenario's verdict fails.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { killedMidRequest, killedMidTunnel } from './faults/backend-killed.js'
import { connectionChurn } from './faults/churn.js'
import type { Scenario } from './faults/fault-tools.js'
import { manyTunnels } from './faults/many-tunnels.js'
import { slowloris } from './faults/slowloris.js'
import { staleSocket } from './faults/stale-socket.js'
import { UsageError, type FuzzOptions } from './options.js'
import { startRouterChild } from './router-child.js'

const SCENARIOS: readonly Scenario[] = [killedMidRequest, killedMidTunnel, staleSocket, connectionChurn, manyTunnels, slowloris]

export async function runFaults (options: FuzzOptions): Promise<number> {
  const unknown = options.scenarios.filter((id) => !SCENARIOS.some((s) => s.id === id))
  if (unknown.length > 0) throw new UsageError(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`)
  const chosen = SCENARIOS.filter((s) => options.scenarios.length === 0 || options.scenarios.includes(s.id))
  let failed = 0
  for (const scenario of chosen) {
    const dir = mkdtempSync(join('/tmp', 'srft-'))
    const router = await startRouterChild({ socketDir: dir, connectTimeoutMs: 2000 })
    const started = performance.now()
    try {
      const result = await scenario.run({ dir, router })
      const crashed = router.proc.exitCode !== null || router.proc.signalCode !== null
      if (!result.ok || crashed) failed++
      const lines = [`### ${result.title} (${result.ok && !crashed ? 'ok' : 'FAILED'}, ${((performance.now() - started) / 1000).toFixed(0)} s)`, ...result.figures.map((f) => `- ${f}`)]
      if (crashed) lines.push('- the router process died')
      lines.push(`- command: \`npm run fuzz -- --faults --only ${scenario.id}\``)
      process.stdout.write(lines.join('\n') + '\n\n')
    } catch (err) {
      failed++
      process.stdout.write(`### ${scenario.title} (FAILED)\n- ${(err as Error).message}\n\n`)
    } finally {
      await router.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return failed === 0 ? 0 : 1
}
