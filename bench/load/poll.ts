import { Agent, request, type IncomingMessage } from 'node:http'
import { request as tlsRequest } from 'node:https'
import { setTimeout as sleep } from 'node:timers/promises'
import { connectOptions, isTls, type Endpoint } from '../endpoint.js'

/** One GET; resolves with the status, or 0 if the connection failed. The body is drained. */
export function getStatus (e: Endpoint, agent: Agent | false = false, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const options = { ...connectOptions(e), path: e.path, method: 'GET', agent, timeout: timeoutMs }
    const onResponse = (res: IncomingMessage): void => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', () => resolve(0))
    }
    // A TLS listener (issue #13) over HTTP/1.1, its self-signed certificate unverified.
    const req = isTls(e) ? tlsRequest({ ...options, rejectUnauthorized: false }, onResponse) : request(options, onResponse)
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(0))
    req.end()
  })
}

/**
 * GETs `e` every `intervalMs` until `accept(status)`; resolves with the
 * milliseconds from `startedAt` (a performance.now()) to that answer, or null
 * once `timeoutMs` has passed.
 */
export async function pollUntil (
  e: Endpoint,
  accept: (status: number) => boolean,
  { startedAt, timeoutMs, intervalMs, agent = false }: { startedAt: number, timeoutMs: number, intervalMs: number, agent?: Agent | false }
): Promise<number | null> {
  const deadline = startedAt + timeoutMs
  while (performance.now() < deadline) {
    if (accept(await getStatus(e, agent))) return performance.now() - startedAt
    await sleep(intervalMs)
  }
  return null
}
