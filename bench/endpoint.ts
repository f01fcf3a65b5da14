/**
 * Where a load generator connects: a TCP port on 127.0.0.1 (a proxy) or a
 * unix socket (direct). `tls`: the port is a proxy's TLS listener (issue #13),
 * whose self-signed certificate the clients do not verify.
 */
export type Endpoint =
  | { readonly kind: 'tcp', readonly port: number, readonly path: string, readonly tls?: boolean }
  | { readonly kind: 'unix', readonly socketPath: string, readonly path: string }

export type TcpEndpoint = Extract<Endpoint, { kind: 'tcp' }>

export const LOOPBACK = '127.0.0.1'

export function httpUrl (e: Endpoint): string {
  return e.kind === 'tcp' ? `${e.tls === true ? 'https' : 'http'}://${LOOPBACK}:${e.port}${e.path}` : `http://localhost${e.path}`
}

export function wsUrl (e: Endpoint): string {
  // `ws` reads `ws+unix:<socket>:<path>` as a unix socket target.
  return e.kind === 'tcp' ? `${e.tls === true ? 'wss' : 'ws'}://${LOOPBACK}:${e.port}${e.path}` : `ws+unix://${e.socketPath}:${e.path}`
}

/** Options for node:http requests. */
export function connectOptions (e: Endpoint): { host: string, port: number } | { socketPath: string } {
  return e.kind === 'tcp' ? { host: LOOPBACK, port: e.port } : { socketPath: e.socketPath }
}

/** Options for net.connect. */
export function netConnectOptions (e: Endpoint): { host: string, port: number } | { path: string } {
  return e.kind === 'tcp' ? { host: LOOPBACK, port: e.port } : { path: e.socketPath }
}

export function isTls (e: Endpoint): boolean {
  return e.kind === 'tcp' && e.tls === true
}
