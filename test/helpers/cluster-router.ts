import { httpGet, type HttpResult } from './http-client.js'
import type { RunningCli } from './run-cli.js'

/** What `sockrouter ready` says in the primary (issue #14): worker ids and their pids. */
export interface ClusterReady {
  readonly address: string
  readonly pids: Record<string, number>
}

/** The first worker's `listening on` address and the primary's `sockrouter ready` line. */
export async function clusterReady (cli: RunningCli, timeoutMs = 60_000): Promise<ClusterReady> {
  const ready = await cli.waitForLine((l) => l.msg === 'sockrouter ready' && l.worker === undefined, timeoutMs)
  const listening = await cli.waitForLine((l) => typeof l.worker === 'number' && /^\d+\.\d+\.\d+\.\d+:\d+$/.test(String(l.address)))
  return { address: String(listening.address), pids: ready.pids as Record<string, number> }
}

/**
 * GETs `url` over a fresh connection each time until the access log shows
 * a 200 for it from every worker in `workers` (node:cluster hands each new
 * connection to the next worker, so a few suffice), within the deadline.
 * Returns every result, for the caller to check.
 */
export async function spreadUntilServedBy (cli: RunningCli, url: string, workers: readonly number[], deadlineMs = 20_000): Promise<HttpResult[]> {
  const path = new URL(url).pathname
  const results: HttpResult[] = []
  const seen = (): Set<number> => new Set(cli.lines
    .filter((l) => l.url === path && l.status === 200 && typeof l.worker === 'number')
    .map((l) => l.worker as number))
  const until = Date.now() + deadlineMs
  while (!workers.every((w) => seen().has(w))) {
    if (Date.now() > until) throw new Error(`within ${deadlineMs} ms, ${path} got a 200 from workers ${[...seen()].join(', ') || 'none'}, not all of ${workers.join(', ')}`)
    results.push(await httpGet(url))
    // The access log line trails the response a little (it is written after the body): wait for this request's.
    const logged = (): number => cli.lines.filter((l) => l.url === path && typeof l.status === 'number').length
    await cli.waitForLine(() => logged() >= results.length)
  }
  return results
}
