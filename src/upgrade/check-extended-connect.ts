import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { GatewayError } from '../forward/gateway-errors.js'
import type { Handshake } from './check-handshake.js'

/**
 * Step 1 for an RFC 8441 extended CONNECT (issue #13). Node's HTTP/2 layer
 * (nghttp2) already requires `:scheme`, `:path` and `:authority` beside
 * `:protocol` (RFC 8441 §4), so what is left is the protocol and version:
 *
 * - `:protocol` other than `websocket` (such as `connect-udp` or
 *   `webtransport`) gets 501, not 400: the request is well-formed, the
 *   router just does not implement that protocol (RFC 9110 §15.6.2).
 * - Sec-WebSocket-Version keeps its RFC 6455 meaning here (RFC 8441 §5):
 *   when sent it must be 13, or the client gets 426 as on HTTP/1.1. When it
 *   is absent the request is still served, since the router speaks version
 *   13 to the backend itself.
 *
 * The key is the router's own: an HTTP/2 client sends none (RFC 8441 §5),
 * yet the backend needs one, and checking the accept it derives from a
 * fresh 16-byte nonce (RFC 6455 §4.1) proves the backend spoke WebSocket to
 * this very request, as HAProxy does.
 */
export function checkExtendedConnect (req: IncomingMessage): Handshake {
  const protocol = req.headers[':protocol']
  if (typeof protocol !== 'string' || protocol.toLowerCase() !== 'websocket') {
    throw new GatewayError('not_implemented', { message: 'Only the websocket protocol can be tunnelled over an extended CONNECT.' })
  }
  const version = req.headers['sec-websocket-version']
  if (version !== undefined && version !== '13') throw new GatewayError('upgrade_required')
  return { key: randomBytes(16).toString('base64') }
}
