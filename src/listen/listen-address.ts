export type ListenAddress =
  | { readonly kind: 'tcp', readonly host: string, readonly port: number }
  | { readonly kind: 'unix', readonly path: string }

export class ListenAddressError extends Error {
  readonly code = 'bad_listen_address'
}

/**
 * `HOST:PORT`, `[V6]:PORT`, bare `PORT` (loopback) or `unix:/path`. Port 0
 * asks the kernel for a free port; the real one is logged once listening.
 */
export function parseListenAddress (text: string): ListenAddress {
  const value = text.trim()
  if (value.startsWith('unix:')) {
    const path = value.slice('unix:'.length)
    if (path === '') throw new ListenAddressError(`"${text}" needs a path after unix:`)
    return { kind: 'unix', path }
  }
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(value)
  const port = Number(match?.[2])
  if (match === null || port > 65535) {
    throw new ListenAddressError(`"${text}" is not HOST:PORT, [IPv6]:PORT, PORT or unix:/path`)
  }
  const rawHost = match[1] ?? '127.0.0.1'
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost === '' ? '0.0.0.0' : rawHost
  return { kind: 'tcp', host, port }
}

export function formatListenAddress (address: ListenAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}
