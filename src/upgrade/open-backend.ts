import { connect, isIP, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { classifyUpstreamError, GatewayError } from '../forward/gateway-errors.js'
import type { Upstream } from '../routing/route-types.js'

/**
 * Step 4's socket, one per tunnel for HTTP/1.1 upgrades and RFC 8441
 * streams alike: the route's unix socket, or its URL target over TCP (TLS
 * for https).
 */
export function openBackend (upstream: Upstream): Socket {
  if (upstream.kind === 'unix') return connect(upstream.socketPath)
  const url = new URL(upstream.targetOrigin)
  const port = Number(url.port !== '' ? url.port : upstream.secure ? 443 : 80)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  // Nagle off, as undici does for HTTP and Node's server does for the client
  // side: a small WebSocket frame must not wait for the previous one's ACK.
  const socket = upstream.secure ? tlsConnect({ host, port, servername: isIP(host) === 0 ? host : undefined }) : connect({ host, port })
  return socket.setNoDelay(true)
}

/** Step 4: resolves once connected; 502 if refused or missing, 504 after the connect timeout. */
export function connectBackend (backend: Socket, timeoutMs: number, service: string, secure: boolean): Promise<void> {
  const connected = secure ? 'secureConnect' : 'connect'
  return new Promise((resolve, reject) => {
    // Listeners go once settled: a tunnel lives long, and each would hold this promise's closures.
    const settle = (failure: GatewayError | null): void => {
      clearTimeout(timer)
      backend.off(connected, onConnect)
      backend.off('error', onError)
      backend.off('close', onClose)
      if (failure === null) resolve()
      else reject(failure)
    }
    const onConnect = (): void => settle(null)
    const onError = (err: Error): void => settle(classifyUpstreamError(err, service))
    const onClose = (): void => settle(new GatewayError('bad_gateway', { service }))
    // 0 means no timeout, as it does for undici on the HTTP path.
    const timer = timeoutMs > 0 ? setTimeout(() => settle(new GatewayError('gateway_timeout', { service })), timeoutMs) : undefined
    backend.once(connected, onConnect)
    backend.once('error', onError)
    backend.once('close', onClose)
  })
}
