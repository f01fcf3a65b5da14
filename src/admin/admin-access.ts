import type { IncomingMessage } from 'node:http'
import { isIP, type AddressInfo, type Server } from 'node:net'

/**
 * How much of the admin surface a listener serves (issue #12):
 * - `full`: everything, writes included: `--admin-listen` listeners and unix: public listeners (only local
 *   processes reach a unix socket, and its file mode decides which);
 * - `read`: every read-only endpoint, writes refused with 403: loopback TCP public listeners (any local user, and a
 *   browser page through DNS rebinding, can reach them; the Host guard stops the latter);
 * - `health`: GET /_sockrouter/health only, everything else 404: non-loopback public listeners, so that absolute
 *   socket paths, route files and tunnels never go public by accident. `--public-admin` lifts that to `read`.
 */
export type AdminAccess = 'full' | 'read' | 'health'

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms; 0.0.0.0 and :: are every interface, so not loopback. */
export function isLoopbackAddress (address: string): boolean {
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
  if (isIP(plain) === 4) return plain.startsWith('127.')
  return plain === '::1'
}

/** Decided by the address the listener is bound to, never by the request's Host header (which the client chooses). */
export function accessForBound (bound: string | AddressInfo | null, publicAdmin: boolean): AdminAccess {
  if (bound === null) return 'health'
  if (typeof bound === 'string') return 'full'
  if (isLoopbackAddress(bound.address)) return 'read'
  return publicAdmin ? 'read' : 'health'
}

/**
 * The access of the public listener a request came in on: Node sets `server` on every socket a server accepts, so
 * each listener is judged by its own bound address, wherever its fd came from (systemd's included, issue #11).
 */
export function publicAccess (publicAdmin: boolean): (req: IncomingMessage) => AdminAccess {
  const cache = new WeakMap<Server, AdminAccess>()
  return (req) => {
    const server = (req.socket as { server?: Server }).server
    if (server === undefined) return 'health'
    let access = cache.get(server)
    if (access === undefined) {
      const bound = server.address()
      // A unix socket passed in by systemd has no name Node knows of (address() is null); its clients have no address.
      access = bound === null && req.socket.remoteAddress === undefined ? 'full' : accessForBound(bound, publicAdmin)
      // address() is null until listening; only a settled answer is kept.
      if (server.listening) cache.set(server, access)
    }
    return access
  }
}
