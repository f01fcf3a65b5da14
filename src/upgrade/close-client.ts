import type { Duplex } from 'node:stream'
import type { GatewayError } from '../forward/gateway-errors.js'
import { writeRawError } from '../forward/write-raw-error.js'

/** How long an answered client may keep its half of the connection open. */
const LINGER_MS = 2000

/**
 * After the last response byte is queued: whatever else the client sends is
 * read and dropped (it must never reach a backend), and the socket is
 * destroyed once both sides have ended (autoDestroy) or the linger time passes.
 * Destroying at once could turn unread client bytes into a TCP RST that makes
 * the client lose the answer it has not read yet.
 */
export function lingerThenDestroy (socket: Duplex): void {
  socket.on('data', () => {})
  socket.resume()
  if (socket.destroyed) return
  const timer = setTimeout(() => socket.destroy(), LINGER_MS)
  timer.unref()
  socket.once('close', () => clearTimeout(timer))
}

/** Ends a socket whose answer is complete, then lingers as above. */
export function endAndLinger (socket: Duplex): void {
  if (socket.writable) socket.end()
  lingerThenDestroy(socket)
}

/** Answers a refused upgrade on the raw socket (issue #3 step 2) and closes it. */
export function refuseUpgrade (socket: Duplex, err: GatewayError): void {
  writeRawError(socket, err)
  lingerThenDestroy(socket)
}
