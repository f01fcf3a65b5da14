import { mkdirSync, unlinkSync } from 'node:fs'
import { Agent, createServer } from 'node:http'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Endpoint } from '../endpoint.js'
import { pollUntil } from '../load/poll.js'
import { Samples } from '../stats.js'
import { isSockrouter } from '../targets.js'
import type { Scenario } from './types.js'

/**
 * sockrouter only: a socket appears in the watched directory → the first 200
 * through the router; the socket file is removed → the first 404 (or 503).
 * Polled every ~1 ms over one keep-alive connection. The backend keeps its
 * listening fd after the unlink, so a 200 after removal means the route is
 * still in the table, not that the connection failed.
 */
export const discovery: Scenario = {
  id: 'discovery',
  title: 'Discovery: socket created → first 200, removed → 404',
  schedule: 'once',
  metrics: [
    { key: 'addP50Ms', label: 'add p50', unit: 'ms', better: 'lower', compare: 'ratio' },
    { key: 'addP99Ms', label: 'add p99', unit: 'ms', better: 'lower', compare: 'ratio' },
    { key: 'removeP50Ms', label: 'remove p50', unit: 'ms', better: 'lower', compare: 'ratio' },
    { key: 'removeP99Ms', label: 'remove p99', unit: 'ms', better: 'lower', compare: 'ratio' }
  ],
  appliesTo: isSockrouter,
  unavailable: () => null,
  async run (ctx, target) {
    const dir = join(ctx.backends.socketDir, 'disc')
    mkdirSync(dir, { recursive: true })
    // The new service dir itself is an event; let the router settle on it first.
    await sleep(500)
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const add = new Samples()
    const remove = new Samples()
    let errors = 0
    for (let i = 0; i < ctx.options.discoveryTrials; i++) {
      const socketPath = join(dir, `n${i}.sock`)
      const json = target.endpoint('json', '/')
      if (json.kind !== 'tcp') throw new Error('discovery needs a proxy target')
      const e: Endpoint = { kind: 'tcp', port: json.port, path: `/disc/n${i}/` }
      const server = createServer((_req, res) => { res.end('ok') })
      const createdAt = performance.now()
      server.listen(socketPath)
      const added = await pollUntil(e, (s) => s === 200, { startedAt: createdAt, timeoutMs: 5000, intervalMs: 1, agent })
      const removedAt = performance.now()
      unlinkSync(socketPath)
      const removed = await pollUntil(e, (s) => s === 404 || s === 503, { startedAt: removedAt, timeoutMs: 5000, intervalMs: 1, agent })
      server.closeAllConnections()
      server.close()
      if (added === null || removed === null) errors++
      if (added !== null) add.add(added)
      if (removed !== null) remove.add(removed)
      await sleep(20)
    }
    agent.destroy()
    const [addP50, addP99] = add.percentiles([50, 99])
    const [removeP50, removeP99] = remove.percentiles([50, 99])
    return {
      values: { addP50Ms: addP50 ?? Number.NaN, addP99Ms: addP99 ?? Number.NaN, removeP50Ms: removeP50 ?? Number.NaN, removeP99Ms: removeP99 ?? Number.NaN },
      errors,
      detail: { trials: ctx.options.discoveryTrials }
    }
  }
}
