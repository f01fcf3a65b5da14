import { h2WsEchoLoad, probeExtendedConnect } from '../load/h2-ws-load.js'
import { wsEchoLoad } from '../load/ws-load.js'
import { isSockrouter } from '../targets.js'
import { tlsEndpointOf, tlsUnavailable } from './https.js'
import type { Scenario } from './types.js'
import { ECHO_METRICS, measureEcho } from './websocket.js'

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
  metrics: ECHO_METRICS,
  appliesTo: (target) => isSockrouter(target) || target === 'nginx',
  unavailable: tlsUnavailable,
  run: (ctx, target) => measureEcho(target, () => wsEchoLoad(tlsEndpointOf(target, 'ws', '/'), { connections: 50, payloadBytes: 64, seconds: ctx.options.wsSeconds, binary: false }))
}

/**
 * RFC 8441: the same 50 tunnels and messages as wss-echo, as extended
 * CONNECT streams, 10 on each of 5 HTTP/2 connections, each spliced by
 * sockrouter to an HTTP/1.1 Upgrade of its own to the backend. sockrouter
 * only: nginx does not do RFC 8441 (its ticket #1428), so wss-echo's
 * sockrouter figure is the one to hold it against.
 */
export const h2WsEcho: Scenario = {
  id: 'h2-ws-echo',
  title: 'WebSocket over HTTP/2 (RFC 8441), echo of 64 B text messages, 5 connections × 10 streams',
  schedule: 'round',
  tls: true,
  metrics: ECHO_METRICS,
  appliesTo: isSockrouter,
  unavailable: tlsUnavailable,
  async probe (_ctx, targets) {
    const e = targets.find((t) => isSockrouter(t.id))?.tlsEndpoint('ws', '/') ?? null
    if (e === null) return 'sockrouter has no TLS listener'
    const why = await probeExtendedConnect(e)
    return why === null ? null : `sockrouter does not tunnel RFC 8441 WebSockets: ${why}`
  },
  run: (ctx, target) => measureEcho(target, () => h2WsEchoLoad(tlsEndpointOf(target, 'ws', '/'), { sessions: 5, streamsPerSession: 10, payloadBytes: 64, seconds: ctx.options.wsSeconds }))
}
