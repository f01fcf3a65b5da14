import { wsEchoLoad, type WsLoadResult } from '../load/ws-load.js'
import { measureCpu } from '../proc-stats.js'
import type { RunningTarget } from '../targets.js'
import type { MetricDef, RunResult, Scenario } from './types.js'

/** What every small-message echo scenario reports: ws-echo, wss-echo and h2-ws-echo (issue #13). */
export const ECHO_METRICS: readonly MetricDef[] = [
  { key: 'msgsPerSec', label: 'msgs/s', unit: 'msgs/s', better: 'higher', compare: 'ratio' },
  { key: 'p99Us', label: 'p99 round trip', unit: 'µs', better: 'lower', compare: 'ratio' },
  { key: 'cpuUsPerMsg', label: 'proxy CPU per echo', unit: 'µs', better: 'lower', compare: 'ratio' }
]

/** Runs one echo load with the target's CPU time measured around it, and reports ECHO_METRICS. */
export async function measureEcho (target: RunningTarget, load: () => Promise<WsLoadResult>): Promise<RunResult> {
  const { result: r, cpu } = await measureCpu(target.pids(), load)
  return {
    values: { msgsPerSec: r.msgsPerSec, p99Us: r.p99Us, cpuUsPerMsg: (cpu * 1e6) / r.messages },
    errors: r.errors,
    detail: { messages: r.messages, p50Us: r.p50Us }
  }
}

export const wsEcho: Scenario = {
  id: 'ws-echo',
  title: 'WebSocket echo, 64 B text messages, 50 connections',
  schedule: 'round',
  metrics: ECHO_METRICS,
  reach: 'all',
  appliesTo: () => true,
  unavailable: () => null,
  run: (ctx, target) => measureEcho(target, () => wsEchoLoad(target.endpoint('ws', '/'), { connections: 50, payloadBytes: 64, seconds: ctx.options.wsSeconds, binary: false }))
}

export const wsBig: Scenario = {
  id: 'ws-1mib',
  title: 'WebSocket echo, 1 MiB binary frames, 4 connections',
  schedule: 'round',
  metrics: [
    { key: 'mbPerSec', label: 'echoed', unit: 'MB/s', better: 'higher', compare: 'ratio' }
  ],
  appliesTo: () => true,
  unavailable: () => null,
  async run (ctx, target) {
    const r = await wsEchoLoad(target.endpoint('ws', '/'), { connections: 4, payloadBytes: 1024 * 1024, seconds: ctx.options.bulkSeconds, binary: true })
    return { values: { mbPerSec: r.bytesPerSec / 1e6 }, errors: r.errors, detail: { messages: r.messages } }
  }
}
