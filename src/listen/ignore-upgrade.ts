import * as http from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { hasToken } from '../forward/hop-headers.js'

/**
 * Node's per-connection HTTP setup, the function its servers run on every
 * `connection` event. It is exported from `node:http` (as `_connectionListener`,
 * which http2's allowHTTP1 and spdy rely on) but not typed.
 */
type ConnectionListener = (this: Server, socket: Duplex) => void
/** Read on use, not at load: node:http cannot be touched while the binary's start-up snapshot is built (issue #11). */
const connectionListener = (): ConnectionListener | undefined => (http as unknown as { _connectionListener?: ConnectionListener })._connectionListener

/** True for the one kind of upgrade the router tunnels (RFC 6455 §4.1). */
export function isWebSocketUpgrade (req: IncomingMessage): boolean {
  return hasToken(req.headers.upgrade, 'websocket')
}

/**
 * The request head again, byte for byte (Node parsed it as latin1), minus
 * `Upgrade` and the `upgrade` token of `Connection`: without both, Node's
 * parser reads it as an ordinary request. Other `Connection` options
 * (`HTTP2-Settings`) stay, so the hop-by-hop step still drops what they name.
 */
function headWithoutUpgrade (req: IncomingMessage): Buffer {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`]
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    let value = raw[i + 1] as string
    const lower = name.toLowerCase()
    if (lower === 'upgrade') continue
    if (lower === 'connection') {
      value = value.split(',').filter((t) => t.trim().toLowerCase() !== 'upgrade').join(',').trim()
      if (value === '') continue
    }
    lines.push(`${name}: ${value}`)
  }
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1')
}

/**
 * Waits until every response Node queued on this connection before the
 * upgrade request (pipelined requests) is written: the connection's new
 * parser starts with an empty queue, so an earlier response still in flight
 * would otherwise hold the socket while the new one waits for it forever.
 */
function afterPendingResponses (socket: Duplex, then: () => void): void {
  const pending = (socket as { _httpMessage?: ServerResponse | null })._httpMessage
  if (pending === null || pending === undefined || socket.destroyed) {
    then()
    return
  }
  // Node's own 'finish' listener ran first and handed the socket to the next queued response, if any.
  pending.once('finish', () => afterPendingResponses(socket, then))
  pending.once('close', () => { if (socket.destroyed) then() })
}

/**
 * A non-WebSocket `Upgrade` (h2c from `curl --http2` or Java's HttpClient,
 * TLS/1.0…) is ignored, as RFC 9110 §7.8 lets a server do and nginx and Caddy
 * do (issue #10, defect 6): the request is served as HTTP/1.x through the
 * normal handler, and nothing is ever switched. Node sends every request
 * with `Connection: upgrade` to the `upgrade` event and has already dropped
 * its parser for the socket, so the head is put back in front of the unread
 * bytes (`head`, then the rest of the socket) and Node's own connection setup
 * runs again: body framing, keep-alive, pipelining, timeouts and errors then
 * work exactly as for any request. Returns false if this Node has no such
 * hook, so the caller can refuse instead.
 */
export function ignoreUpgrade (server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  const listener = connectionListener()
  if (listener === undefined) return false
  const replay = Buffer.concat([headWithoutUpgrade(req), head])
  // Node removed its own listener before the `upgrade` event; its new one replaces this.
  const onError = (): void => { socket.destroy() }
  socket.on('error', onError)
  afterPendingResponses(socket, () => {
    socket.off('error', onError)
    if (socket.destroyed) return
    try {
      socket.unshift(replay)
    } catch {
      // The client already ended its side and its bytes were read: nothing to serve.
      socket.destroy()
      return
    }
    listener.call(server, socket as Socket)
  })
  return true
}
