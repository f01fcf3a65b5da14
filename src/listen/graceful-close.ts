import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { Server as NetServer, type Socket } from 'node:net'

/**
 * Stopping a listener without failing a request that was already on its way
 * (issue #11). http.Server#close() also closes every connection with no
 * request in progress, and that includes one the kernel had just handed over
 * whose request bytes were not read yet: its client got ECONNRESET. That
 * shows most in a restart under socket activation, where the socket stays
 * open and connections keep arriving until the last moment.
 *
 * So: stop accepting (net.Server#close, without http's extra step), close the
 * keep-alive connections that sit idle after a response, and let a
 * connection that has not sent its first request yet send it; its response
 * carries `Connection: close`. start-router's grace timer cuts what is left.
 */
interface Tracked {
  readonly sockets: Set<Socket>
  closing: boolean
}

const tracked = new WeakMap<Server, Tracked>()
const served = new WeakSet<Socket>()

/** Starts tracking connections; call before the server listens. */
export function trackConnections (server: Server): void {
  if (tracked.has(server)) return
  const state: Tracked = { sockets: new Set(), closing: false }
  tracked.set(server, state)
  server.on('connection', (socket: Socket) => {
    state.sockets.add(socket)
    socket.once('close', () => state.sockets.delete(socket))
  })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    served.add(req.socket)
    if (state.closing) res.shouldKeepAlive = false
  })
}

/**
 * Between requests on a keep-alive connection: no response in progress, and
 * still an HTTP connection (Node frees the parser of a socket it hands to an
 * 'upgrade' handler).
 */
function isIdleKeepAlive (socket: Socket): boolean {
  const http = socket as Socket & { _httpMessage?: unknown, parser?: unknown }
  return served.has(socket) && http._httpMessage == null && http.parser != null
}

/** Stops accepting; resolves once every connection is gone (or cut by the caller's grace timer). */
export function closeGracefully (server: Server): Promise<void> {
  const state = tracked.get(server)
  if (state === undefined) {
    return new Promise((resolve) => { server.close(() => resolve()); server.closeIdleConnections() })
  }
  state.closing = true
  const closed = new Promise<void>((resolve) => { NetServer.prototype.close.call(server, () => resolve()) })
  for (const socket of state.sockets) {
    // An upgraded socket is the tunnel registry's to drain; a fresh one may still send its request.
    if (isIdleKeepAlive(socket)) socket.destroy()
  }
  return closed
}
