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
  /** Connections that carry HTTP/1.x: the TLS sockets on an https:// listener. */
  readonly sockets: Set<Socket>
  /** Accepted TCP connections whose TLS handshake has not finished yet (https:// only). */
  readonly handshaking: Set<Socket>
  closing: boolean
  sessions: SessionOwner | null
}

/** The HTTP/2 sessions a listener hands its connections to (issue #13, listen/h2-server.ts). */
export interface SessionOwner {
  /** GOAWAY: streams in progress may finish. */
  closeAll (): void
  destroyAll (): void
}

const tracked = new WeakMap<NetServer, Tracked>()
const served = new WeakSet<Socket>()

/** A tls.Server (an https:// listener) hands HTTP its TLS sockets, after the handshake. */
function isTlsServer (server: NetServer): boolean {
  return 'setSecureContext' in server
}

/** Starts tracking connections; call before the server listens. `sessions`: its HTTP/2 side, if any. */
export function trackConnections (server: NetServer, sessions: SessionOwner | null = null): void {
  if (tracked.has(server)) return
  const state: Tracked = { sockets: new Set(), handshaking: new Set(), closing: false, sessions }
  tracked.set(server, state)
  const tls = isTlsServer(server)
  // One listener per server, shared by its sockets (`this` is the socket that
  // closed), instead of a once() wrapper and a closure on every connection:
  // a tunnel keeps its socket for days (issue #14: RSS per idle tunnel).
  function forgetSocket (this: Socket): void {
    state.sockets.delete(this)
  }
  function forgetHandshake (this: Socket): void {
    state.handshaking.delete(this)
  }
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket & { _parent?: Socket }) => {
    if (socket._parent !== undefined) state.handshaking.delete(socket._parent)
    state.sockets.add(socket)
    socket.on('close', forgetSocket)
  })
  if (tls) {
    server.on('connection', (socket: Socket) => {
      state.handshaking.add(socket)
      socket.on('close', forgetHandshake)
    })
  }
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
export function closeGracefully (server: NetServer): Promise<void> {
  const state = tracked.get(server)
  if (state === undefined) {
    const http = server as Server
    return new Promise((resolve) => { http.close(() => resolve()); http.closeIdleConnections() })
  }
  state.closing = true
  state.sessions?.closeAll()
  // A TLS handshake still in progress has no request yet: nothing to finish.
  for (const socket of state.handshaking) socket.destroy()
  const closed = new Promise<void>((resolve) => { NetServer.prototype.close.call(server, () => resolve()) })
  for (const socket of state.sockets) {
    // An upgraded socket is the tunnel registry's to drain; a fresh one may still send its request.
    if (isIdleKeepAlive(socket)) socket.destroy()
  }
  return closed
}

/**
 * The end of the grace period: every connection still open is cut, HTTP/1.x
 * ones through node:http (which leaves upgraded sockets to the tunnel
 * registry's drain) and HTTP/2 sessions with their streams.
 */
export function cutConnections (server: NetServer): void {
  ;(server as Partial<Server>).closeAllConnections?.call(server)
  const state = tracked.get(server)
  state?.sessions?.destroyAll()
  for (const socket of state?.handshaking ?? []) socket.destroy()
}
