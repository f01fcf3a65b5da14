import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Upstream } from '../routing/route-types.js'
import { isUnreachableCode, type HealthState } from './route-health.js'

export interface ProbeResult {
  readonly state: Exclude<HealthState, 'unknown'>
  readonly cause: string
}

export interface ProbeOptions {
  /** Sent to the backend as it is; a `url` target's base path goes in front. */
  readonly path: string
  readonly timeoutMs: number
  /** Aborts the probe (the prober stopping); the result is then unhealthy and meant to be ignored. */
  readonly signal?: AbortSignal
}

/**
 * The statuses that mean "the service answers" (issue #12): 2xx and 3xx, and
 * 404/405/501, which a service without a health endpoint gives for GET /health.
 */
export function isHealthyStatus (status: number): boolean {
  return (status >= 200 && status < 400) || status === 404 || status === 405 || status === 501
}

/** The innermost error code, for the cause: never a message, which may hold a socket path. */
function errorCode (err: unknown): string | undefined {
  for (let current = err, depth = 0; depth < 5 && current !== null && typeof current === 'object'; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
  }
  return undefined
}

function requestOptions (upstream: Upstream, path: string): { options: RequestOptions, secure: boolean } {
  const base = { method: 'GET', agent: false as const, headers: { 'user-agent': 'sockrouter-health', connection: 'close', accept: '*/*' } }
  if (upstream.kind === 'unix') {
    return { options: { ...base, socketPath: upstream.socketPath, path, headers: { ...base.headers, host: 'localhost' } }, secure: false }
  }
  const url = new URL(upstream.targetOrigin)
  return {
    options: { ...base, host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? undefined : Number(url.port), path: upstream.basePath + path, headers: { ...base.headers, host: upstream.targetHost } },
    secure: upstream.secure
  }
}

/**
 * One `GET <path>` straight to the route's socket or URL, never through the
 * router: a probe must not count as traffic, take a client slot or pass the
 * Host guard. A fresh connection each time (agent: false, Connection: close),
 * so a probe sees what a new client would: a dead process behind a socket
 * file left over is refused. Never rejects.
 */
export function probeRoute (upstream: Upstream, { path, timeoutMs, signal }: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false
    const { options, secure } = requestOptions(upstream, path)
    const settle = (result: ProbeResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.destroy()
      resolve(result)
    }
    const req = (secure ? httpsRequest : httpRequest)({ ...options, signal }, (res: IncomingMessage) => {
      res.on('error', () => {})
      const status = res.statusCode ?? 0
      settle({ state: isHealthyStatus(status) ? 'healthy' : 'unhealthy', cause: `GET ${path} answered ${status}` })
    })
    req.on('error', (err) => {
      const code = errorCode(err)
      settle(isUnreachableCode(code)
        ? { state: 'unreachable', cause: `connect ${String(code)}` }
        : { state: 'unhealthy', cause: `GET ${path} failed: ${code ?? 'connection error'}` })
    })
    const timer = setTimeout(() => settle({ state: 'unhealthy', cause: `timeout after ${timeoutMs} ms` }), timeoutMs)
    // A probe never holds the process open: a socket in use does that while it matters.
    timer.unref()
    req.end()
  })
}
