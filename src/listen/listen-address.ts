/**
 * What a TCP listener speaks (issue #13): left out, cleartext HTTP/1.1;
 * `https`, TLS with HTTP/2 and HTTP/1.1 by ALPN; `h2c`, cleartext HTTP/2
 * with prior knowledge only (RFC 9113 §3.3): HTTP/1.1 clients use a plain listener.
 */
export type ListenScheme = 'https' | 'h2c'

export type ListenAddress =
  | { readonly kind: 'tcp', readonly host: string, readonly port: number, readonly scheme?: ListenScheme }
  | { readonly kind: 'unix', readonly path: string }

export class ListenAddressError extends Error {
  readonly code = 'bad_listen_address'
}

const SCHEMES: Readonly<Record<string, ListenScheme | null>> = { 'http://': null, 'https://': 'https', 'h2c://': 'h2c' }

/**
 * `HOST:PORT`, `[V6]:PORT`, bare `PORT` (loopback) or `unix:/path`, each TCP
 * form optionally behind `http://`, `https://` or `h2c://` (issue #13). Port
 * 0 asks the kernel for a free port; the real one is logged once listening.
 */
export function parseListenAddress (text: string): ListenAddress {
  let value = text.trim()
  let scheme: ListenScheme | null = null
  const prefix = Object.keys(SCHEMES).find((p) => value.toLowerCase().startsWith(p))
  if (prefix !== undefined) {
    scheme = SCHEMES[prefix] ?? null
    value = value.slice(prefix.length).replace(/\/$/, '')
  }
  if (value.startsWith('unix:') && prefix === undefined) {
    const path = value.slice('unix:'.length)
    if (path === '') throw new ListenAddressError(`"${text}" needs a path after unix:`)
    return { kind: 'unix', path }
  }
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(value)
  const port = Number(match?.[2])
  if (match === null || port > 65535) {
    throw new ListenAddressError(`"${text}" is not HOST:PORT, [IPv6]:PORT, PORT, https://HOST:PORT, h2c://HOST:PORT or unix:/path`)
  }
  const rawHost = match[1] ?? '127.0.0.1'
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost === '' ? '0.0.0.0' : rawHost
  return scheme === null ? { kind: 'tcp', host, port } : { kind: 'tcp', host, port, scheme }
}

export function formatListenAddress (address: ListenAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`
  const hostPort = address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
  return address.scheme === undefined ? hostPort : `${address.scheme}://${hostPort}`
}

/** The origin a browser sees for this listener (issue #13: `https://` on a TLS one), or null for a unix socket. */
export function listenOrigin (address: ListenAddress): string | null {
  if (address.kind === 'unix') return null
  const name = address.host.includes(':') ? `[${address.host}]` : address.host
  return `${address.scheme === 'https' ? 'https' : 'http'}://${name}:${address.port}`
}
