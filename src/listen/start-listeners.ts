import type { Server } from 'node:net'
import { clearStaleSocket } from './clear-stale-socket.js'
import { closeGracefully, cutConnections, trackConnections, type SessionOwner } from './graceful-close.js'
import { formatListenAddress, type ListenAddress } from './listen-address.js'

export class ListenError extends Error {
  readonly code: string
  constructor (address: ListenAddress, code: string, reason: string) {
    super(`cannot listen on ${formatListenAddress(address)}: ${reason}`)
    this.code = code
  }
}

export interface Listener {
  /** node:http's server, https's on an https:// listener, http2's on an h2c:// one (issue #13). */
  readonly server: Server
  /** The address actually bound: port 0 resolved. */
  readonly address: ListenAddress
}

function reasonFor (err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE': return 'address already in use'
    case 'EACCES': return 'permission denied'
    case 'EADDRNOTAVAIL': return 'address not available on this host'
    case 'ENOENT': return 'directory does not exist'
    default: return err.code ?? 'failed'
  }
}

/**
 * A socket file left by a crashed router is replaced; a live one or another
 * file is an error. Under --workers only the primary calls it, before any
 * worker listens (issue #14): a second worker would find the first one's
 * socket live.
 */
export async function clearStaleUnixSocket (address: ListenAddress & { kind: 'unix' }): Promise<void> {
  const state = await clearStaleSocket(address.path)
  if (state === 'live') throw new ListenError(address, 'EADDRINUSE', 'address already in use')
  if (state === 'not-a-socket') throw new ListenError(address, 'EADDRINUSE', 'a file that is not a socket is in the way')
}

function bound (server: Server, requested: ListenAddress): ListenAddress {
  const info = server.address()
  if (requested.kind === 'unix' || info === null || typeof info === 'string') return requested
  return { ...requested, host: info.address, port: info.port }
}

/**
 * `sessions`: the listener's HTTP/2 side (issue #13), closed and cut with it.
 * `clearStale`: false in a `--workers` worker (issue #14).
 */
export async function listenOn (server: Server, address: ListenAddress, sessions: SessionOwner | null = null, options: { clearStale?: boolean } = {}): Promise<Listener> {
  if (address.kind === 'unix' && options.clearStale !== false) await clearStaleUnixSocket(address)
  trackConnections(server, sessions)
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new ListenError(address, err.code ?? 'listen_failed', reasonFor(err)))
    server.once('error', onError)
    const done = (): void => { server.off('error', onError); resolve() }
    if (address.kind === 'unix') server.listen(address.path, done)
    else server.listen(address.port, address.host, done)
  })
  return { server, address: bound(server, address) }
}

/** Closes a listener; Node removes a unix socket file on close. */
export function closeListener (listener: Listener): Promise<void> {
  return closeGracefully(listener.server)
}

/** What is still open when the grace period ends. */
export function cutListener (listener: Listener): void {
  cutConnections(listener.server)
}
