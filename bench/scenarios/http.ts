import { httpLoad } from '../load/http-load.js'
import { measureCpu } from '../proc-stats.js'
import type { ServiceId } from '../backends.js'
import type { RunningTarget } from '../targets.js'
import type { MetricDef, RunResult, Scenario, ScenarioContext } from './types.js'

const reqPerSec: MetricDef = { key: 'reqPerSec', label: 'req/s', unit: 'req/s', better: 'higher', compare: 'ratio' }
const cpuPerReq: MetricDef = { key: 'cpuUsPerReq', label: 'proxy CPU per request', unit: 'µs', better: 'lower', compare: 'ratio' }

function smallAt50 (id: string, title: string, service: ServiceId): Scenario {
  return {
    id,
    title,
    schedule: 'round',
    metrics: [
      reqPerSec,
      { key: 'p50Us', label: 'p50', unit: 'µs', better: 'lower', compare: 'ratio' },
      { key: 'p99Us', label: 'p99', unit: 'µs', better: 'lower', compare: 'ratio' },
      cpuPerReq
    ],
    appliesTo: () => true,
    unavailable: (ctx) => ctx.backends.sockets[service] === null ? `no ${service} backend (needs nginx)` : null,
    async run (ctx: ScenarioContext, target: RunningTarget): Promise<RunResult> {
      const { result: r, cpu } = await measureCpu(target.pids(), () => httpLoad(target.endpoint(service, '/'), { connections: 50, seconds: ctx.options.httpSeconds }))
      return {
        values: { reqPerSec: r.reqPerSec, p50Us: r.p50Us, p99Us: r.p99Us, cpuUsPerReq: (cpu * 1e6) / r.ok },
        errors: r.errors,
        detail: { requests: r.ok, seconds: r.seconds }
      }
    }
  }
}

export const httpSmall = smallAt50('http-small', 'HTTP ~100 B JSON (node:http backend), 50 connections', 'json')
export const httpSmallStatic = smallAt50('http-small-static', 'HTTP ~100 B (nginx return 200 backend), 50 connections', 'static')

export const httpOneConnection: Scenario = {
  id: 'http-1c',
  title: 'HTTP ~100 B JSON, 1 connection (latency added over direct)',
  schedule: 'round',
  metrics: [
    { key: 'p50Us', label: 'p50', unit: 'µs', better: 'lower', compare: 'difference' },
    { key: 'p99Us', label: 'p99', unit: 'µs', better: 'lower', compare: 'difference' },
    reqPerSec
  ],
  appliesTo: () => true,
  unavailable: () => null,
  async run (ctx, target) {
    const r = await httpLoad(target.endpoint('json', '/'), { connections: 1, seconds: ctx.options.httpSeconds })
    return { values: { p50Us: r.p50Us, p99Us: r.p99Us, reqPerSec: r.reqPerSec }, errors: r.errors, detail: { requests: r.ok } }
  }
}

export const httpBig: Scenario = {
  id: 'http-1mib',
  title: 'HTTP 1 MiB responses (node:http backend), 4 connections',
  schedule: 'round',
  metrics: [
    { key: 'mbPerSec', label: 'MB/s', unit: 'MB/s', better: 'higher', compare: 'ratio' },
    cpuPerReq
  ],
  appliesTo: () => true,
  unavailable: () => null,
  async run (ctx, target) {
    const { result: r, cpu } = await measureCpu(target.pids(), () => httpLoad(target.endpoint('json', '/big'), { connections: 4, seconds: ctx.options.bulkSeconds }))
    return { values: { mbPerSec: r.bytesPerSec / 1e6, cpuUsPerReq: (cpu * 1e6) / r.ok }, errors: r.errors, detail: { responses: r.ok } }
  }
}
