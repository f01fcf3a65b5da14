import { wsEchoLoad } from '../load/ws-load.js'
import { measureCpu } from '../proc-stats.js'
import { tlsEndpointOf, tlsUnavailable } from './https.js'
import type { Scenario } from './types.js'

/**
 * Issue #13: ws-echo's load over `wss://` (HTTP/1.1 Upgrade on a TLS
 * connection): sockrouter's raw tunnel on a TLSSocket against nginx's ssl
 * listener, to the same cleartext `ws` backend.
 */
export const wssEcho: Scenario = {
  id: 'wss-echo',
  title: 'WebSocket over TLS (wss://, HTTP/1.1), echo of 64 B text messages, 50 connections',
  schedule: 'round',
  tls: true,
  metrics: [
    { key: 'msgsPerSec', label: 'msgs/s', unit: 'msgs/s', better: 'higher', compare: 'ratio' },
    { key: 'p99Us', label: 'p99 round trip', unit: 'µs', better: 'lower', compare: 'ratio' },
    { key: 'cpuUsPerMsg', label: 'proxy CPU per echo', unit: 'µs', better: 'lower', compare: 'ratio' }
  ],
  appliesTo: (target) => target === 'sockrouter' || target === 'nginx',
  unavailable: tlsUnavailable,
  async run (ctx, target) {
    const e = tlsEndpointOf(target, 'ws', '/')
    const { result: r, cpu } = await measureCpu(target.pids(), () => wsEchoLoad(e, { connections: 50, payloadBytes: 64, seconds: ctx.options.wsSeconds, binary: false }))
    return {
      values: { msgsPerSec: r.msgsPerSec, p99Us: r.p99Us, cpuUsPerMsg: (cpu * 1e6) / r.messages },
      errors: r.errors,
      detail: { messages: r.messages, p50Us: r.p50Us }
    }
  }
}
