import { join } from 'node:path'
import type { ServiceId } from '../backends.js'
import type { TcpEndpoint } from '../endpoint.js'
import { h2load, type H2loadOptions, type H2loadResult } from '../load/h2load.js'
import { measureCpu } from '../proc-stats.js'
import { isSockrouter, type RunningTarget } from '../targets.js'
import type { MetricDef, Scenario, ScenarioContext } from './types.js'

/**
 * Issue #13: HTTP/2 and HTTP/1.1 over TLS with h2load, against sockrouter's
 * `--listen https://` and nginx's `ssl http2` listener, both in front of the
 * same cleartext HTTP/1.1 unix-socket backend. No direct row: h2load cannot
 * dial a unix socket, and the backend speaks neither TLS nor HTTP/2.
 */

const reqPerSec: MetricDef = { key: 'reqPerSec', label: 'req/s', unit: 'req/s', better: 'higher', compare: 'ratio' }
const cpuPerReq: MetricDef = { key: 'cpuUsPerReq', label: 'proxy CPU per request', unit: 'µs', better: 'lower', compare: 'ratio' }

/** Why no target can run the TLS scenarios, or null. The per-target reasons were noted when the launchers were made. */
export function tlsUnavailable (ctx: ScenarioContext): string | null {
  return ctx.launchers.some((l) => l.tls) ? null : 'no target has a TLS listener (see the lines above)'
}

export function tlsEndpointOf (target: RunningTarget, service: ServiceId, path: string): TcpEndpoint {
  const e = target.tlsEndpoint(service, path)
  if (e === null) throw new Error(`${target.id} has no TLS listener`)
  return e
}

function h2Unavailable (ctx: ScenarioContext): string | null {
  return ctx.h2load === null ? 'no h2load; install it with `apt-get install -y nghttp2-client`' : tlsUnavailable(ctx)
}

type Load = Pick<H2loadOptions, 'protocol' | 'connections' | 'streams'>

/** One h2load run against the target's TLS listener, with the CPU the target spent meanwhile. */
async function runH2load (ctx: ScenarioContext, target: RunningTarget, round: number, path: string, load: Load, seconds: number): Promise<{ r: H2loadResult, cpu: number }> {
  const binary = ctx.h2load
  if (binary === null) throw new Error('no h2load')
  const logFile = join(ctx.tempDir, `h2load-${target.id}-${round}.tsv`)
  const { result: r, cpu } = await measureCpu(target.pids(), () => h2load(binary, tlsEndpointOf(target, 'json', path), { ...load, seconds, logFile }))
  return { r, cpu }
}

function smallOverTls (id: string, title: string, load: Load): Scenario {
  return {
    id,
    title,
    schedule: 'round',
    tls: true,
    metrics: [
      reqPerSec,
      { key: 'p50Us', label: 'p50', unit: 'µs', better: 'lower', compare: 'ratio' },
      { key: 'p99Us', label: 'p99', unit: 'µs', better: 'lower', compare: 'ratio' },
      cpuPerReq
    ],
    appliesTo: (target) => isSockrouter(target) || target === 'nginx',
    unavailable: h2Unavailable,
    async run (ctx, target, round) {
      const { r, cpu } = await runH2load(ctx, target, round, '/', load, ctx.options.httpSeconds)
      return {
        values: { reqPerSec: r.reqPerSec, p50Us: r.p50Us, p99Us: r.p99Us, cpuUsPerReq: (cpu * 1e6) / r.ok },
        errors: r.errors,
        detail: { requests: r.ok, seconds: r.seconds, alpn: r.negotiated.alpn, tls: r.negotiated.tls, cipher: r.negotiated.cipher }
      }
    }
  }
}

/** 50 requests in flight, as http-small: 5 connections of 10 streams each. */
export const h2Small = smallOverTls('h2-small', 'HTTP/2 over TLS, ~100 B JSON (node:http backend), 5 connections × 10 streams (h2load)', { protocol: 'h2', connections: 5, streams: 10 })

export const httpsSmall = smallOverTls('https-small', 'HTTP/1.1 over TLS, ~100 B JSON (node:http backend), 50 connections (h2load --h1)', { protocol: 'http/1.1', connections: 50, streams: 1 })

export const h2Big: Scenario = {
  id: 'h2-1mib',
  title: 'HTTP/2 over TLS, 1 MiB responses (node:http backend), 4 connections × 1 stream (h2load)',
  schedule: 'round',
  tls: true,
  metrics: [
    { key: 'mbPerSec', label: 'MB/s', unit: 'MB/s', better: 'higher', compare: 'ratio' },
    cpuPerReq
  ],
  appliesTo: (target) => isSockrouter(target) || target === 'nginx',
  unavailable: h2Unavailable,
  async run (ctx, target, round) {
    const { r, cpu } = await runH2load(ctx, target, round, '/big', { protocol: 'h2', connections: 4, streams: 1 }, ctx.options.bulkSeconds)
    return {
      values: { mbPerSec: r.bytesPerSec / 1e6, cpuUsPerReq: (cpu * 1e6) / r.ok },
      errors: r.errors,
      detail: { responses: r.ok, alpn: r.negotiated.alpn }
    }
  }
}
